import { z } from 'zod';

// What the auth routes answer, for the API document (/docs) and to type their handlers.

/** What clients may see of a user (`publicUser()` in user.ts). */
export const PublicUser = z
  .object({
    id: z.string().describe("The token's `sub`"),
    name: z.string().nullable().describe("The token's `name` claim"),
    expiresAt: z.iso.datetime().describe('When the token stops being valid; an open stream ends with `auth.expired` then'),
  })
  .meta({ id: 'PublicUser' });

/** A signed-in user and the private channel only their streams may follow. */
export const SignedIn = z
  .object({
    user: PublicUser,
    channel: z.string().describe("The user's private channel (`user:<id>`), for `/api/v1/sse/events?channels=`"),
  })
  .meta({ id: 'SignedIn' });

export const SessionState = z
  .object({
    user: PublicUser.nullable().describe('null: nobody is signed in'),
    channel: z.string().nullable(),
    signIn: z.object({
      configured: z.boolean().describe('Tokens are accepted at all (AUTH_SECRET or AUTH_JWKS_URL is set)'),
      dev: z.boolean().describe('The development sign-in (`POST /api/v1/auth/dev-session`) is on'),
    }),
  })
  .meta({ id: 'SessionState' });

export const DevSession = SignedIn.extend({ token: z.string().describe('The token now kept in the session cookie, for API clients') }).meta({
  id: 'DevSession',
});

export const SseTicket = z
  .object({
    ticket: z.string().describe('Opens one stream, once: `/api/v1/sse/events?ticket=...`'),
    expiresAt: z.iso.datetime(),
    channel: z.string().describe("The user's private channel"),
  })
  .meta({ id: 'SseTicket' });
