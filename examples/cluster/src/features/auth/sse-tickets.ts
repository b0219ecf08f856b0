/**
 * One-time tickets that open an SSE stream as a signed-in user. EventSource
 * cannot send an Authorization header, and a token in a URL would sit in
 * browser history and proxy logs for its whole lifetime; a ticket is worth
 * one stream, for a few seconds.
 *
 * With Redis a ticket is a key with a TTL, taken with GETDEL: any instance
 * accepts a ticket another one issued, and only the first request gets it.
 * Without Redis they live in this process.
 */
import { randomBytes } from 'node:crypto';
import type { RedisClient } from '../../scaling/redis/connections.js';
import { VoltError } from '../../volt/index.js';
import type { User } from './user.js';

export interface IssuedTicket {
  ticket: string;
  /** Epoch ms. */
  expiresAt: number;
}

export interface SseTickets {
  /** A ticket for `user`, valid for the configured seconds and never past the token's own expiry. */
  issue(user: User): Promise<IssuedTicket>;
  /** The user a ticket was issued to, the first time it is presented; null when unknown, used or expired. */
  redeem(ticket: string): Promise<User | null>;
}

export interface SseTicketOptions {
  /** The app's command connection; undefined keeps tickets in this process. */
  redis: RedisClient | undefined;
  ttlSeconds: number;
  /** Tickets kept at most without Redis (the oldest go first). */
  maxInMemory?: number;
  now?: () => number;
}

/** Redis unreachable: a 503 the client retries, not a 500 (nor a 401 that would make it sign in again). */
async function unavailableOnError<T>(command: Promise<T>): Promise<T> {
  try {
    return await command;
  } catch (error) {
    throw new VoltError('SERVICE_UNAVAILABLE', 'Stream tickets are unavailable; try again shortly', { cause: error });
  }
}

/** 32 random bytes, base64url: 43 characters. */
const TICKET = /^[A-Za-z0-9_-]{43}$/;
// Under `sse:` with the realtime keys, so an app user limited to its own key prefixes may use them.
const ticketKey = (ticket: string) => `sse:ticket:${ticket}`;

export function createSseTickets(options: SseTicketOptions): SseTickets {
  const { redis, ttlSeconds } = options;
  const now = options.now ?? Date.now;
  const expiryOf = (user: User) => Math.min(now() + ttlSeconds * 1000, user.expiresAt);
  const stillValid = (user: User) => user.expiresAt > now();

  if (redis) {
    return {
      async issue(user) {
        const ticket = randomBytes(32).toString('base64url');
        const expiresAt = expiryOf(user);
        await unavailableOnError(redis.set(ticketKey(ticket), JSON.stringify(user), 'PX', Math.max(1, expiresAt - now())));
        return { ticket, expiresAt };
      },
      async redeem(ticket) {
        if (!TICKET.test(ticket)) return null;
        const json = await unavailableOnError(redis.getdel(ticketKey(ticket)));
        const user = json === null ? null : (JSON.parse(json) as User);
        return user && stillValid(user) ? user : null;
      },
    };
  }

  const maxInMemory = options.maxInMemory ?? 10_000;
  const tickets = new Map<string, { user: User; expiresAt: number }>();
  const makeRoom = () => {
    const time = now();
    for (const [ticket, entry] of tickets) if (entry.expiresAt <= time) tickets.delete(ticket);
    // Still full: the oldest go (a Map iterates in insertion order).
    for (const ticket of tickets.keys()) {
      if (tickets.size < maxInMemory) break;
      tickets.delete(ticket);
    }
  };
  return {
    async issue(user) {
      if (tickets.size >= maxInMemory) makeRoom();
      const ticket = randomBytes(32).toString('base64url');
      const expiresAt = expiryOf(user);
      tickets.set(ticket, { user, expiresAt });
      return { ticket, expiresAt };
    },
    async redeem(ticket) {
      const entry = tickets.get(ticket);
      if (!entry) return null;
      tickets.delete(ticket);
      return entry.expiresAt > now() && stillValid(entry.user) ? entry.user : null;
    },
  };
}
