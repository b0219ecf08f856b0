// Who is signed in, from the session cookie the server set. The page never
// sees the token: the cookie is HttpOnly, and same-origin requests carry it.
import { api } from './api.js';

/** `{ user: { id, name, expiresAt }, channel, signIn: { configured, dev } }`; user and channel are null when signed out. */
export async function currentSession() {
  return api('/auth/me');
}

/** Development only: the server signs in as any user id (see POST /api/v1/auth/dev-session). */
export async function devSignIn(sub) {
  return api('/auth/dev-session', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sub }) });
}

/** A token from an identity provider (or `npm run token`): the server checks it and keeps it in the cookie. */
export async function signInWithToken(token) {
  return api('/auth/session', { method: 'POST', headers: { authorization: `Bearer ${token.trim()}` } });
}

export async function signOut() {
  await api('/auth/session', { method: 'DELETE' });
}

/** A one-time ticket for the event stream: EventSource cannot send the cookie's token as a header. */
export async function streamTicket() {
  return api('/sse/ticket', { method: 'POST' });
}
