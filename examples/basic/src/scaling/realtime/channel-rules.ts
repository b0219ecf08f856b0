/**
 * Which channels a client may subscribe to. A channel is accepted only if a
 * rule matches its name; the rule's `authorize` then decides with the request
 * context (who is asking), so scopes such as `user:<id>` are checked against
 * the server's idea of the user, never against anything in the query string.
 *
 * Each feature declares its own channels (`features/notes/notes.channels.ts`,
 * `features/auth/auth.channels.ts`); the standard ones below are always there.
 */
import { BROADCAST_CHANNEL, REVALIDATE_CHANNEL, type ErrorDoc } from '../../volt/index.js';

/** Letters, digits and `. _ - :`; no `,` (cursor separator) nor braces (Redis hash tags). */
const CHANNEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

export function isChannelName(name: string): boolean {
  return CHANNEL_NAME.test(name);
}

export interface ChannelRule<Context = unknown> {
  /** An exact name, or a pattern whose capture groups are passed to `authorize`. */
  match: string | RegExp;
  /** Default: allowed to anyone who may open the stream. */
  authorize?: (channel: string, context: Context, groups: readonly string[]) => boolean | Promise<boolean>;
}

/** How `decide` refuses a stream, for the API document. */
export const CHANNEL_REFUSALS: readonly ErrorDoc[] = [
  { code: 'TOO_MANY_CHANNELS', status: 400, description: 'More channels than one stream may name.' },
  { code: 'INVALID_CHANNEL', status: 400, description: 'A channel name with characters outside `A-Z a-z 0-9 . _ - :`.' },
  { code: 'UNKNOWN_CHANNEL', status: 400, description: 'A channel no rule accepts.' },
  { code: 'FORBIDDEN_CHANNEL', status: 403, description: 'A channel this client may not follow.' },
];

export type ChannelDecision = { ok: true; channels: string[] } | { ok: false; status: 400 | 403; code: string; message: string };

export interface ChannelPolicyOptions<Context> {
  rules: ChannelRule<Context>[];
  /** Subscribed when the request names none. */
  defaultChannels: string[];
  maxChannels: number;
  /** Called when an `authorize` hook throws; the channel is then refused (403). */
  onHookError?: (error: unknown, channel: string) => void;
}

export class ChannelPolicy<Context = unknown> {
  private readonly rules: Array<{ match: string | RegExp; authorize: ChannelRule<Context>['authorize'] }>;

  constructor(private readonly options: ChannelPolicyOptions<Context>) {
    // A pattern must describe the whole name: anchor it once here.
    this.rules = options.rules.map((rule) => ({
      match: typeof rule.match === 'string' ? rule.match : new RegExp(`^(?:${rule.match.source})$`, rule.match.flags.replace(/[gy]/g, '')),
      authorize: rule.authorize,
    }));
  }

  /** Validates `?channels=a,b` (raw, may be null) and authorizes every channel. */
  async decide(raw: string | null, context: Context): Promise<ChannelDecision> {
    const requested = raw === null || raw.trim() === '' ? [...this.options.defaultChannels] : raw.split(',').map((name) => name.trim());
    if (requested.length === 0) return refuse(400, 'CHANNELS_REQUIRED', 'name at least one channel: ?channels=a,b');
    const channels = [...new Set(requested)];
    if (channels.length > this.options.maxChannels) {
      return refuse(400, 'TOO_MANY_CHANNELS', `at most ${this.options.maxChannels} channels per stream`);
    }
    for (const channel of channels) {
      if (!isChannelName(channel)) {
        return refuse(400, 'INVALID_CHANNEL', `malformed channel name "${truncate(channel)}"`);
      }
    }
    for (const channel of channels) {
      const verdict = await this.authorize(channel, context);
      if (verdict !== true) return verdict;
    }
    return { ok: true, channels };
  }

  private async authorize(channel: string, context: Context): Promise<true | ChannelDecision> {
    for (const rule of this.rules) {
      const groups = matchRule(rule.match, channel);
      if (!groups) continue;
      if (!rule.authorize) return true;
      let allowed = false;
      try {
        allowed = await rule.authorize(channel, context, groups);
      } catch (error) {
        this.options.onHookError?.(error, channel);
      }
      return allowed === true ? true : refuse(403, 'FORBIDDEN_CHANNEL', `not allowed to subscribe to "${channel}"`);
    }
    return refuse(400, 'UNKNOWN_CHANNEL', `unknown channel "${channel}"`);
  }
}

function matchRule(match: string | RegExp, channel: string): string[] | null {
  if (typeof match === 'string') return match === channel ? [] : null;
  const result = match.exec(channel);
  if (!result) return null;
  return result.slice(1).map((group) => group ?? '');
}

function refuse(status: 400 | 403, code: string, message: string): ChannelDecision {
  return { ok: false, status, code, message };
}

function truncate(text: string): string {
  return text.length > 64 ? `${text.slice(0, 64)}...` : text;
}

/**
 * The channels every app has: `broadcast` and `revalidate` (the kernel's
 * `realtime.broadcast` and `revalidate`), open to every stream. Private
 * channels belong to the features that define them (`user:<id>`:
 * features/auth/auth.channels.ts).
 */
export function standardChannelRules<Context = unknown>(): ChannelRule<Context>[] {
  return [{ match: BROADCAST_CHANNEL }, { match: REVALIDATE_CHANNEL }];
}
