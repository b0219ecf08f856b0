import { z } from 'zod';
import type { VoltResponse } from '../../volt/index.js';
import { volt } from '../../volt.js';
import { userChannel } from './auth.channels.js';
import { auth, bearerToken } from './auth.procedure.js';
import { DevSession, SessionState, SignedIn } from './auth.schema.js';
import { publicUser, type User } from './user.js';

/** Demo user ids: what the development sign-in accepts (and a private channel can be named after). */
const DevSignInBody = z
  .object({
    sub: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and -, at most 64'),
    name: z.string().trim().min(1).max(100).optional(),
  })
  .meta({ id: 'DevSignInBody', examples: [{ sub: 'alice', name: 'Alice' }] });

/** The signed-in user as clients see it, with the private channel to follow. */
const signedIn = (user: User) => ({ user: publicUser(user), channel: userChannel(user.id) });

/**
 * Sessions for browsers: a verified token goes into an HttpOnly cookie
 * (SameSite=Lax, Secure in production), which `auth()` then reads. API
 * clients skip this and send `Authorization: Bearer <token>` on each request.
 */
export const authController = volt.controller({
  name: 'auth',
  path: '/auth',
  actions: {
    /** Who is signed in (null: nobody), and how one signs in here: with tokens at all, and with the development sign-in. */
    me: volt.query({
      path: '/me',
      description: 'Who is signed in',
      output: SessionState,
      use: [auth({ optional: true })],
      handler: ({ context, response }) =>
        response.setHeader('cache-control', 'no-store').success({
          ...(context.user ? signedIn(context.user) : { user: null, channel: null }),
          signIn: { configured: context.auth.tokens.configured, dev: context.auth.settings.devSignIn },
        }),
    }),

    /** Signs a browser in with a token from the identity provider (or `npm run token`), sent as a bearer token. */
    createSession: volt.mutation({
      path: '/session',
      method: 'POST',
      use: [auth()],
      description: 'Sign a browser in: keep the bearer token in a session cookie',
      output: SignedIn,
      docs: { errors: [{ code: 'BAD_REQUEST', description: 'Signed in with the cookie, not a bearer token: there is no token to keep.' }] },
      handler: ({ request, context, response }) => {
        const token = bearerToken(request);
        if (token === null) return response.badRequest('Send the token to keep as Authorization: Bearer <token>');
        return setSession(response, context.auth.settings.cookieName, token, context.user).success(signedIn(context.user));
      },
    }),

    /** Signs the browser out (the token itself stays valid until its `exp`). */
    deleteSession: volt.mutation({
      path: '/session',
      method: 'DELETE',
      description: 'Sign the browser out',
      docs: { status: 204 },
      handler: ({ request, context, response }) => {
        request.cookies.delete(context.auth.settings.cookieName);
        return response.noContent();
      },
    }),

    /**
     * Development only (not in production, and only with AUTH_SECRET): signs
     * in as any user id, with no password. It stands in for an identity
     * provider so the demo page can show two users side by side.
     */
    devSession: volt.mutation({
      path: '/dev-session',
      method: 'POST',
      body: DevSignInBody,
      description: 'Development sign-in: any user id, no password',
      output: DevSession,
      docs: { status: 201, errors: [{ code: 'NOT_FOUND', description: 'The development sign-in is off (production, or no AUTH_SECRET).' }] },
      handler: async ({ request, context, response }) => {
        const { settings, tokens } = context.auth;
        if (!settings.devSignIn) return response.notFound('The development sign-in is off (production, or no AUTH_SECRET)');
        const token = await tokens.sign({ sub: request.body.sub, name: request.body.name }, settings.devTokenTtlSeconds);
        const user = await tokens.verify(token);
        return setSession(response, settings.cookieName, token, user).created({ ...signedIn(user), token });
      },
    }),
  },
});

/** The session cookie lives as long as the token in it. */
function setSession(response: VoltResponse, name: string, token: string, user: User): VoltResponse {
  return response.setCookie(name, token, { maxAge: Math.max(0, Math.floor((user.expiresAt - Date.now()) / 1000)) });
}
