import type { RedisClient } from '../../scaling/redis/connections.js';
import { createSseTickets, type SseTickets } from './sse-tickets.js';
import { createTokens, type AuthSettings, type Tokens } from './tokens.js';

/** What `auth()` and the auth controllers use, built once per app (`context.auth`). */
export interface AuthService {
  tokens: Tokens;
  tickets: SseTickets;
  settings: AuthSettings;
}

export function createAuthService(settings: AuthSettings, redis: RedisClient | undefined): AuthService {
  return {
    tokens: createTokens(settings),
    tickets: createSseTickets({ redis, ttlSeconds: settings.ticketTtlSeconds }),
    settings,
  };
}
