import type { JWTPayload } from 'jose';

/** Who is signed in: what `auth()` puts in `context.user`, from a verified token. */
export interface User {
  /** The token's `sub`. */
  id: string;
  /** The token's `name` claim, when it has one. */
  name: string | null;
  /** When the token stops being valid (epoch ms, its `exp`): an open stream ends then. */
  expiresAt: number;
  /** Every claim of the token (roles, scopes, email, ... as the issuer puts them). */
  claims: JWTPayload;
}

/** What clients may see of a user (`GET /api/v1/auth/me`, sign-in answers). */
export function publicUser(user: User): { id: string; name: string | null; expiresAt: string } {
  return { id: user.id, name: user.name, expiresAt: new Date(user.expiresAt).toISOString() };
}
