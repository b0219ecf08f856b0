/**
 * `use: [auth()]`: the action runs only for a signed-in user, who is then
 * `context.user` (typed). The credentials, in this order:
 * 1. with `ticket: true`, a one-time SSE ticket in `?ticket=` (the events
 *    route: EventSource cannot send a header);
 * 2. an `Authorization: Bearer <jwt>` header;
 * 3. the session cookie (set by `POST /api/v1/auth/session`), for browsers.
 *
 * Refusals are 401 `{ data: null, error: { code: 'UNAUTHORIZED', message,
 * details: { reason } } }` with a `WWW-Authenticate: Bearer` header; `reason`
 * is one of `TokenRejection` (`expired` tells a client to get a new token).
 * Cookie-authenticated writes are also same-origin only (scaling/http/csrf.ts).
 */
import { VoltError, type ContextRequest, type Procedure } from '../../volt/index.js';
import { volt } from '../../volt.js';
import { BEARER_AUTH } from './auth.docs.js';
import { rejected } from './tokens.js';
import type { AuthService } from './auth.service.js';
import type { User } from './user.js';

export interface AuthOptions {
  /** Let anonymous requests through as `context.user === null`; credentials that are sent must still be valid. */
  optional?: boolean;
  /** Also accept a one-time SSE ticket in `?ticket=` (only the realtime route uses it). */
  ticket?: boolean;
}

const TICKET_PARAMETER = {
  name: 'ticket',
  in: 'query',
  required: false,
  description: 'A one-time ticket from `POST /api/v1/sse/ticket`, for clients that cannot send a header (EventSource).',
  schema: { type: 'string' },
} as const;

/** `Bearer` and a token68 (RFC 6750): a JWT's base64url parts and dots fit it. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

const authProcedure = volt.procedure({
  name: 'auth',
  // In the API document: a bearer token is required (optional: anonymous
  // requests too, the empty requirement), and a 401 is one of the answers.
  docs: (options: AuthOptions | undefined) => ({
    security: options?.optional === true ? [{ [BEARER_AUTH]: [] }, {}] : [{ [BEARER_AUTH]: [] }],
    errors: ['UNAUTHORIZED'],
    ...(options?.ticket === true ? { parameters: [TICKET_PARAMETER] } : {}),
  }),
  handler: async (options: AuthOptions | undefined, { request, context, response }) => {
    try {
      const user = await credentialsOf(request, context.auth, options?.ticket === true);
      if (user === null && options?.optional !== true) throw rejected('missing', 'Sign in first: send Authorization: Bearer <token>');
      return { user };
    } catch (error) {
      if (!(error instanceof VoltError) || error.status !== 401) throw error;
      // RFC 6750: say which scheme to use, and whether the credentials sent were the problem.
      const missing = (error.details as { reason?: string }).reason === 'missing';
      response.setHeader('www-authenticate', missing ? 'Bearer' : 'Bearer error="invalid_token"');
      return response.error({ code: error.code, message: error.message, details: error.details, status: 401 });
    }
  },
});

/** The signed-in user the request's credentials name; null when it carries none. */
async function credentialsOf(request: ContextRequest, auth: AuthService, acceptTicket: boolean): Promise<User | null> {
  if (acceptTicket) {
    const ticket = request.query.ticket;
    if (ticket !== undefined) {
      const user = typeof ticket === 'string' ? await auth.tickets.redeem(ticket) : null;
      if (user === null) throw rejected('ticket', 'The ticket is unknown, used or expired: get a new one with POST /api/v1/sse/ticket');
      return user;
    }
  }
  const token = bearerToken(request);
  if (token !== null) return auth.tokens.verify(token);
  const cookie = request.cookies.get(auth.settings.cookieName);
  return cookie ? auth.tokens.verify(cookie) : null;
}

/** The token of an `Authorization: Bearer` header; null without the header, a 401 when it is malformed. */
export function bearerToken(request: Pick<ContextRequest, 'headers'>): string | null {
  const header = request.headers.get('authorization');
  if (header === null) return null;
  const token = BEARER.exec(header)?.[1];
  if (token === undefined) throw rejected('malformed', 'The Authorization header must be "Bearer <token>"');
  return token;
}

type SignedIn = Procedure<{ user: User }>;
type MaybeSignedIn = Procedure<{ user: User | null }>;

/** `auth()` / `auth` require a user; `auth({ optional: true })` types `context.user` as `User | null`. */
export interface Auth extends SignedIn {
  (options?: AuthOptions & { optional?: false }): SignedIn;
  (options: AuthOptions & { optional: true }): MaybeSignedIn;
}

export const auth = authProcedure as unknown as Auth;
