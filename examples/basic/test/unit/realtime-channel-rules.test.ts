import { describe, expect, it } from 'vitest';
import { notesChannels } from '../../src/features/notes/notes.channels.js';
import { ChannelPolicy, standardChannelRules } from '../../src/scaling/realtime/channel-rules.js';

type Context = { user?: { id: string } };
const policy = new ChannelPolicy<Context>({
  rules: [...standardChannelRules<Context>(), ...notesChannels],
  defaultChannels: ['broadcast', 'revalidate'],
  maxChannels: 4,
});

describe('channel rules', () => {
  it('accepts known public channels and dedupes', async () => {
    expect(await policy.decide('notes,revalidate,notes', {})).toEqual({ ok: true, channels: ['notes', 'revalidate'] });
  });

  it('subscribes the default channels when none is named', async () => {
    expect(await policy.decide(null, {})).toEqual({ ok: true, channels: ['broadcast', 'revalidate'] });
    expect(await policy.decide('', {})).toEqual({ ok: true, channels: ['broadcast', 'revalidate'] });
  });

  it('answers 400 for malformed and unknown channels', async () => {
    expect(await policy.decide('notes,{x}', {})).toMatchObject({ ok: false, status: 400, code: 'INVALID_CHANNEL' });
    expect(await policy.decide('notes,', {})).toMatchObject({ ok: false, status: 400, code: 'INVALID_CHANNEL' });
    expect(await policy.decide('a'.repeat(200), {})).toMatchObject({ ok: false, status: 400, code: 'INVALID_CHANNEL' });
    expect(await policy.decide('secrets', {})).toMatchObject({ ok: false, status: 400, code: 'UNKNOWN_CHANNEL' });
    // Patterns match whole names only.
    expect(await policy.decide('notesx', {})).toMatchObject({ ok: false, status: 400, code: 'UNKNOWN_CHANNEL' });
    expect(await policy.decide('user:1:extra', { user: { id: '1' } })).toMatchObject({ ok: false, status: 400, code: 'UNKNOWN_CHANNEL' });
    expect(await policy.decide('a,b,c,d,e', {})).toMatchObject({ ok: false, status: 400, code: 'TOO_MANY_CHANNELS' });
  });

  it('allows user:<id> only for the user the server context names, never from the query', async () => {
    expect(await policy.decide('user:42', { user: { id: '42' } })).toEqual({ ok: true, channels: ['user:42'] });
    expect(await policy.decide('user:42', { user: { id: '7' } })).toMatchObject({ ok: false, status: 403, code: 'FORBIDDEN_CHANNEL' });
    expect(await policy.decide('user:42', {})).toMatchObject({ ok: false, status: 403, code: 'FORBIDDEN_CHANNEL' });
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
    expect(await custom.decide('team:red', {})).toEqual({ ok: true, channels: ['team:red'] });
    expect(await custom.decide('team:blue', {})).toMatchObject({ ok: false, status: 403 });
    expect(await custom.decide('broken', {})).toMatchObject({ ok: false, status: 403 });
    expect(errors).toEqual(['broken: boom']);
  });
});
