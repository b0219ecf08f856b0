import { createHash } from 'node:crypto';
import type { ChannelRule } from '../../scaling/realtime/index.js';
import type { RealtimeContext } from '../../volt.js';

/** Ids that are channel-safe as they are; no `.`, so they never look like a hashed one. */
const PLAIN_ID = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * A user's private channel: `user:<id>`. Channel names allow only letters,
 * digits and `. _ - :`, so an id with other characters (`auth0|5f7c...`, an
 * e-mail address) is named by its hash instead: `user:.<sha-256, base64url>`.
 */
export function userChannel(userId: string): string {
  return PLAIN_ID.test(userId) ? `user:${userId}` : `user:.${createHash('sha256').update(userId).digest('base64url')}`;
}

/**
 * `user:<id>` is private: only a stream opened as that user may follow it
 * (with a one-time ticket or a bearer token, see auth.procedure.ts); anyone
 * else gets 403, whatever the query string says.
 */
export const authChannels: ChannelRule<Pick<RealtimeContext, 'user'>>[] = [
  { match: /user:\.?[A-Za-z0-9_-]{1,64}/, authorize: (channel, { user }) => (user ? userChannel(user.id) === channel : false) },
];
