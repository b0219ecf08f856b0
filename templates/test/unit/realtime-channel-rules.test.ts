import { describe, expect, it } from 'vitest';
import { authChannels, userChannel } from '../../src/features/auth/auth.channels.js';
import { notesChannels } from '../../src/features/notes/notes.channels.js';
import { ChannelPolicy, standardChannelRules } from '../../src/scaling/realtime/channel-rules.js';
import type { RealtimeContext } from '../../src/volt.js';

type Context = Pick<RealtimeContext, 'user'>;
/** The context of a stream opened as `id` (only `user` matters to channel rules). */
const as = (id: string): Context => ({ user: { id, name: null, expiresAt: Date.now() + 60_000, claims: { sub: id } } });
const anonymous: Context = { user: null };
const policy = new ChannelPolicy<Context>({
  rules: [...standardChannelRules<Context>(), ...notesChannels, ...authChannels],
  defaultChannels: ['broadcast', 'revalidate'],
  maxChannels: 4,
});

describe('channel rules', () => {
  it('accepts known public channels and dedupes', async () => {
    expect(await policy.decide('notes,revalidate,notes', anonymous)).toEqual({ ok: true, channels: ['notes', 'revalidate'] });
  });

  it('subscribes the default channels when none is named', async () => {
    expect(await policy.decide(null, anonymous)).toEqual({ ok: true, channels: ['broadcast', 'revalidate'] });
    expect(await policy.decide('', anonymous)).toEqual({ ok: true, channels: ['broadcast', 'revalidate'] });
  });

  it('answers 400 for malformed and unknown channels', async () => {
    expect(await policy.decide('notes,{x}', anonymous)).toMatchObject({ ok: false, status: 400, code: 'INVALID_CHANNEL' });
    expect(await policy.decide('notes,', anonymous)).toMatchObject({ ok: false, status: 400, code: 'INVALID_CHANNEL' });
    expect(await policy.decide('a'.repeat(200), anonymous)).toMatchObject({ ok: false, status: 400, code: 'INVALID_CHANNEL' });
    expect(await policy.decide('secrets', anonymous)).toMatchObject({ ok: false, status: 400, code: 'UNKNOWN_CHANNEL' });
    // Patterns match whole names only.
    expect(await policy.decide('notesx', anonymous)).toMatchObject({ ok: false, status: 400, code: 'UNKNOWN_CHANNEL' });
    expect(await policy.decide('user:1:extra', as('1'))).toMatchObject({ ok: false, status: 400, code: 'UNKNOWN_CHANNEL' });
    expect(await policy.decide('a,b,c,d,e', anonymous)).toMatchObject({ ok: false, status: 400, code: 'TOO_MANY_CHANNELS' });
  });

  it('allows user:<id> only for the user the server context names, never from the query', async () => {
    expect(await policy.decide('user:42', as('42'))).toEqual({ ok: true, channels: ['user:42'] });
    expect(await policy.decide('notes,user:42', as('42'))).toEqual({ ok: true, channels: ['notes', 'user:42'] });
    expect(await policy.decide('user:42', as('7'))).toMatchObject({ ok: false, status: 403, code: 'FORBIDDEN_CHANNEL' });
    expect(await policy.decide('user:42', anonymous)).toMatchObject({ ok: false, status: 403, code: 'FORBIDDEN_CHANNEL' });
    expect(await policy.decide('notes,user:42', anonymous)).toMatchObject({ ok: false, status: 403, code: 'FORBIDDEN_CHANNEL' });
  });

  it('names the channel of an id with characters channels do not allow by its hash, private all the same', async () => {
    const id = 'auth0|5f7c8ec7c33c6c004bbafe82';
    const channel = userChannel(id);
    expect(channel).toMatch(/^user:\.[A-Za-z0-9_-]{43}$/);
    expect(userChannel(id)).toBe(channel);
    expect(userChannel('ada@example.com')).not.toBe(channel);
    expect(userChannel('alice')).toBe('user:alice');
    expect(await policy.decide(channel, as(id))).toEqual({ ok: true, channels: [channel] });
    expect(await policy.decide(channel, as('alice'))).toMatchObject({ ok: false, status: 403 });
  });

  it('refuses (403) when an authorization hook throws or resolves false, and awaits async hooks', async () => {
    const errors: string[] = [];
    const custom = new ChannelPolicy<Context>({
      rules: [
        { match: /team:(\w+)/, authorize: async (_channel, _context, [team]) => team === 'red' },
        {
          match: 'broken',
          authorize: () => {
            throw new Error('boom');
          },
        },
      ],
      defaultChannels: [],
      maxChannels: 4,
      onHookError: (error, channel) => errors.push(`${channel}: ${(error as Error).message}`),
    });
    expect(await custom.decide('team:red', anonymous)).toEqual({ ok: true, channels: ['team:red'] });
    expect(await custom.decide('team:blue', anonymous)).toMatchObject({ ok: false, status: 403 });
    expect(await custom.decide('broken', anonymous)).toMatchObject({ ok: false, status: 403 });
    expect(errors).toEqual(['broken: boom']);
  });
});
