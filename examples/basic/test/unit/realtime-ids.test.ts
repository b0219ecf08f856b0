import { describe, expect, it } from 'vitest';
import { StreamIdClock, compareIds, cursorPosition, formatCursor, parseCursor } from '../../src/scaling/realtime/event-id.js';

describe('stream ids', () => {
  it('orders by milliseconds, then sequence, numerically rather than as text', () => {
    expect(compareIds('1700000000000-0', '1700000000000-0')).toBe(0);
    expect(compareIds('1700000000000-9', '1700000000000-10')).toBeLessThan(0);
    expect(compareIds('999-5', '1000-0')).toBeLessThan(0);
    expect(compareIds('1700000000001-0', '1700000000000-99')).toBeGreaterThan(0);
    expect(compareIds('0-0', '1-0')).toBeLessThan(0);
    // Beyond 2^53: still exact.
    expect(compareIds('9007199254740993-0', '9007199254740992-0')).toBeGreaterThan(0);
  });

  it('issues strictly increasing ids, also within one millisecond and when the clock steps back', () => {
    const times = [100, 100, 100, 99, 101];
    const clock = new StreamIdClock(() => times.shift() ?? 101);
    const ids = [clock.next(), clock.next(), clock.next(), clock.next(), clock.next()];
    expect(ids).toEqual(['100-0', '100-1', '100-2', '100-3', '101-0']);
    for (let index = 1; index < ids.length; index++) expect(compareIds(ids[index - 1]!, ids[index]!)).toBeLessThan(0);
  });
});

describe('resume cursors (Last-Event-ID)', () => {
  it('is the bare stream id for one channel', () => {
    expect(formatCursor(['notes'], ['1700000000000-3'])).toBe('1700000000000-3');
  });

  it('lists every channel for several, and round-trips channel names containing colons', () => {
    const text = formatCursor(['notes', 'user:42'], ['1700000000000-3', '1700000000005-0']);
    expect(text).toBe('notes:1700000000000-3,user:42:1700000000005-0');
    const cursor = parseCursor(text)!;
    expect(cursorPosition(cursor, 'notes')).toBe('1700000000000-3');
    expect(cursorPosition(cursor, 'user:42')).toBe('1700000000005-0');
    expect(cursorPosition(cursor, 'revalidate')).toBeUndefined();
  });

  it('applies a bare id to every channel and an empty one to none', () => {
    const cursor = parseCursor(' 1700000000000-3 ')!;
    expect(cursorPosition(cursor, 'notes')).toBe('1700000000000-3');
    expect(cursorPosition(cursor, 'anything')).toBe('1700000000000-3');
    expect(cursorPosition(parseCursor('')!, 'notes')).toBeUndefined();
  });

  it('rejects what this server never issues', () => {
    for (const bad of ['abc', '12', '12-', '-1', 'notes:', ':1-0', 'notes:1-0,', 'notes:1-x', '01-0', '1-00', '550e8400-e29b-41d4-a716-446655440000']) {
      expect(parseCursor(bad), bad).toBeNull();
    }
  });
});
