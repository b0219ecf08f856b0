import { describe, expect, it } from 'vitest';
import { ZERO_ID, compareIds } from '../../src/scaling/realtime/event-id.js';
import { MemoryChannelLog } from '../../src/scaling/realtime/memory-channel-log.js';
import type { LiveEvent } from '../../src/scaling/realtime/channel-log.js';

describe('in-memory channel log', () => {
  it('issues increasing ids per channel and reads strictly after an id', async () => {
    const log = new MemoryChannelLog({ maxLength: 100 });
    const ids: string[] = [];
    for (let index = 0; index < 10; index++) ids.push(await log.append('notes', 'message', JSON.stringify({ index })));
    for (let index = 1; index < ids.length; index++) expect(compareIds(ids[index - 1]!, ids[index]!)).toBeLessThan(0);
    expect((await log.read('notes', ids[6]!, 100)).map((event) => event.id)).toEqual(ids.slice(7));
    expect((await log.read('notes', ZERO_ID, 3)).map((event) => event.json)).toEqual(['{"index":0}', '{"index":1}', '{"index":2}']);
    expect(await log.read('other', ZERO_ID, 10)).toEqual([]);
    expect(await log.position('notes')).toEqual({ lastId: ids[9], trimmedThrough: ZERO_ID });
    expect(await log.position('other')).toEqual({ lastId: ZERO_ID, trimmedThrough: ZERO_ID });
  });

  it('keeps the newest maxLength entries and reports what it dropped', async () => {
    const log = new MemoryChannelLog({ maxLength: 5 });
    const ids: string[] = [];
    for (let index = 0; index < 12; index++) ids.push(await log.append('notes', 'message', String(index)));
    expect((await log.read('notes', ZERO_ID, 100)).map((event) => event.id)).toEqual(ids.slice(7));
    // Reading after any id in or before the buffer finds the right place (binary search over the ring).
    expect((await log.read('notes', ids[8]!, 100)).map((event) => event.id)).toEqual(ids.slice(9));
    expect((await log.read('notes', ids[2]!, 100)).map((event) => event.id)).toEqual(ids.slice(7));
    const position = await log.position('notes');
    // A resume from before `trimmedThrough` has lost events (the processor sends `reset`).
    expect(position).toEqual({ lastId: ids[11], trimmedThrough: ids[6] });
    expect(compareIds(ids[5]!, position.trimmedThrough)).toBeLessThan(0);
    expect(compareIds(ids[6]!, position.trimmedThrough)).toBe(0);
  });

  it('announces appends, with the previous id, only for subscribed channels', async () => {
    const log = new MemoryChannelLog({ maxLength: 100 });
    const live: Array<[string, LiveEvent]> = [];
    log.setHandlers({ live: (channel, event) => live.push([channel, event]), resync: () => undefined });
    const first = await log.append('notes', 'message', '1');
    await log.subscribe('notes');
    const second = await log.append('notes', 'note.created', '2');
    await log.append('other', 'message', '3');
    await log.unsubscribe('notes');
    await log.append('notes', 'message', '4');
    expect(live).toEqual([['notes', { id: second, prevId: first, type: 'note.created', json: '2' }]]);
    expect(log.subscriptionCount).toBe(0);
  });
});
