import { spawnSync } from 'node:child_process';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createRequestLog, type RequestRecord } from '../../src/scaling/http/request-log.js';
import { createLogger } from '../../src/scaling/logger.js';
import { silentLogger } from '../../src/volt/index.js';

/** A destination that keeps each write it receives (one string per write). */
function recordingDestination() {
  const writes: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      writes.push(chunk.toString());
      done();
    },
  });
  return { stream, writes, lines: () => writes.join('').split('\n').filter(Boolean) };
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

const record: RequestRecord = {
  reqId: 'edge-7f3a-12',
  method: 'GET',
  // Everything a client can put in a path that JSON must escape.
  path: '/api/v1/notes/"quoted"\\back\nline\ttab\u0001ctl\u2028é中😀',
  route: '/api/v1/notes/:id',
  status: 404,
  durationMs: 1.234,
  aborted: false,
};

describe('request log', () => {
  it('writes the same line pino writes for the same record', async () => {
    const fast = recordingDestination();
    const reference = recordingDestination();
    const requestLog = createRequestLog(createLogger({ level: 'info', instanceId: 'inst "1"', destination: fast.stream }));
    const pinoLogger = createLogger({ level: 'info', instanceId: 'inst "1"', destination: reference.stream });

    requestLog.write(record, 'info');
    requestLog.write({ ...record, aborted: true }, 'info');
    const { aborted: _, ...fields } = record;
    pinoLogger.info(fields, 'request');
    pinoLogger.info({ ...fields, aborted: true }, 'request');
    requestLog.flush();
    await nextTurn();

    const withoutTime = (line: string) => line.replace(/"time":\d+/, '"time":0');
    expect(fast.lines()).toHaveLength(2);
    expect(fast.lines().map(withoutTime)).toEqual(reference.lines().map(withoutTime));
    const parsed = JSON.parse(fast.lines()[0]!) as Record<string, unknown>;
    expect(parsed).toMatchObject({ level: 'info', instance: 'inst "1"', pid: process.pid, path: record.path, status: 404, msg: 'request' });
    expect(Math.abs(Date.now() - (parsed.time as number))).toBeLessThan(5_000);
  });

  it('stays identical to pino for repeated static routes, changing statuses and methods, and any duration', async () => {
    const fast = recordingDestination();
    const reference = recordingDestination();
    const requestLog = createRequestLog(createLogger({ level: 'info', instanceId: 'same', destination: fast.stream }));
    const pinoLogger = createLogger({ level: 'info', instanceId: 'same', destination: reference.stream });
    const ping = { reqId: 'a-1', method: 'GET', path: '/api/v1/ping', route: '/api/v1/ping', status: 200, aborted: false };
    const durations = [0, 0.001, 0.01, 0.1, 0.5, 0.999, 1, 1.2, 1.23, 12.345, 999.999, 1000, 86_400_000.001, 3_600_000.5];
    // Rounded to the microsecond as the operations layer does, plus values it never produces.
    for (let i = 0; i < 300; i++) durations.push(Math.round(Math.random() * 10 ** (i % 9)) / 1000);
    durations.push(1.23456, 1e-7, 2 ** 53);
    const records: RequestRecord[] = durations.map((durationMs, i) => ({
      ...ping,
      reqId: `a-${i}`,
      durationMs,
      // The same route with another status or method, a parameterised route, an aborted stream.
      ...(i % 7 === 3 ? { status: 304 } : {}),
      ...(i % 11 === 5 ? { method: 'HEAD' } : {}),
      ...(i % 13 === 6 ? { path: '/api/v1/notes/42', route: '/api/v1/notes/:id' } : {}),
      ...(i % 17 === 8 ? { aborted: true } : {}),
    }));
    for (const r of records) {
      requestLog.write(r, 'info');
      const { aborted, ...fields } = r;
      pinoLogger.info(aborted ? { ...fields, aborted } : fields, 'request');
    }
    requestLog.flush();
    await nextTurn();

    const withoutTime = (line: string) => line.replace(/"time":\d+/, '"time":0');
    expect(fast.lines()).toHaveLength(records.length);
    expect(fast.lines().map(withoutTime)).toEqual(reference.lines().map(withoutTime));
  });

  it('with tracing on, adds the trace ids as pino would write them, at the end', async () => {
    const fast = recordingDestination();
    const reference = recordingDestination();
    const requestLog = createRequestLog(createLogger({ level: 'info', instanceId: 'traced', destination: fast.stream }));
    const pinoLogger = createLogger({ level: 'info', instanceId: 'traced', destination: reference.stream });
    const trace = { trace_id: '4bf92f3577b34da6a3ce929d0e0e4736', span_id: '00f067aa0ba902b7', trace_flags: '01' };
    requestLog.write({ ...record, trace }, 'info');
    requestLog.write({ ...record, aborted: true, trace: { ...trace, trace_flags: '00' } }, 'info');
    const { aborted: _, ...fields } = record;
    pinoLogger.info({ ...fields, ...trace }, 'request');
    pinoLogger.info({ ...fields, aborted: true, ...trace, trace_flags: '00' }, 'request');
    requestLog.flush();
    await nextTurn();
    const withoutTime = (line: string) => line.replace(/"time":\d+/, '"time":0');
    expect(fast.lines().map(withoutTime)).toEqual(reference.lines().map(withoutTime));
    expect(JSON.parse(fast.lines()[0]!)).toMatchObject(trace);
  });

  it('hands lines to the destination together, 100 ms after the first', async () => {
    const destination = recordingDestination();
    const requestLog = createRequestLog(createLogger({ level: 'info', instanceId: 'batch', destination: destination.stream }));
    const started = performance.now();
    for (let i = 0; i < 20; i++) requestLog.write({ ...record, reqId: `r-${i}` }, 'info');
    await nextTurn();
    expect(destination.writes).toHaveLength(0);
    await expect.poll(() => destination.writes.length, { interval: 5 }).toBe(1);
    expect(performance.now() - started).toBeGreaterThanOrEqual(90);
    expect(destination.lines().map((line) => (JSON.parse(line) as { reqId: string }).reqId)).toEqual(Array.from({ length: 20 }, (_, i) => `r-${i}`));
  });

  it('writes a batch as soon as it reaches 16 KB', () => {
    const destination = recordingDestination();
    const requestLog = createRequestLog(createLogger({ level: 'info', instanceId: 'big', destination: destination.stream }));
    for (let i = 0; i < 200; i++) requestLog.write(record, 'info');
    expect(destination.writes.length).toBeGreaterThan(0);
    expect(destination.writes.every((chunk) => chunk.endsWith('\n'))).toBe(true);
  });

  it('follows the logger level: probes at debug, nothing at warn, changes at runtime', async () => {
    const destination = recordingDestination();
    const logger = createLogger({ level: 'info', instanceId: 'levels', destination: destination.stream });
    const requestLog = createRequestLog(logger);
    requestLog.write({ ...record, reqId: 'api' }, 'info');
    requestLog.write({ ...record, reqId: 'probe' }, 'debug');
    logger.level = 'debug';
    requestLog.write({ ...record, reqId: 'probe-at-debug' }, 'debug');
    logger.level = 'warn';
    requestLog.write({ ...record, reqId: 'api-at-warn' }, 'info');
    requestLog.flush();
    await nextTurn();
    const lines = destination.lines().map((line) => JSON.parse(line) as { reqId: string; level: string });
    expect(lines.map((l) => [l.reqId, l.level])).toEqual([
      ['api', 'info'],
      ['probe-at-debug', 'debug'],
    ]);
  });

  it('passes the record to any other logger as an object', () => {
    const calls: Array<[string, object | string, string | undefined]> = [];
    const requestLog = createRequestLog({
      ...silentLogger,
      info: (obj, msg) => calls.push(['info', obj, msg]),
      debug: (obj, msg) => calls.push(['debug', obj, msg]),
    });
    requestLog.write(record, 'info');
    requestLog.write({ ...record, aborted: true }, 'debug');
    const { aborted: _, ...fields } = record;
    expect(calls).toEqual([
      ['info', fields, 'request'],
      ['debug', { ...fields, aborted: true }, 'request'],
    ]);
  });

  it('still writes batched lines when the process exits', () => {
    const script = `
      import { createRequestLog } from './src/scaling/http/request-log.ts';
      import { createLogger } from './src/scaling/logger.ts';
      const requestLog = createRequestLog(createLogger({ level: 'info', instanceId: 'exiting' }));
      for (let i = 0; i < 3; i++) requestLog.write({ reqId: 'last-' + i, method: 'GET', path: '/', route: '/', status: 200, durationMs: 1, aborted: false }, 'info');
      process.exit(0);
    `;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      encoding: 'utf8',
    });
    expect(child.stderr).toBe('');
    expect(child.status).toBe(0);
    const lines = child.stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { reqId: string; instance: string });
    expect(lines.map((l) => l.reqId)).toEqual(['last-0', 'last-1', 'last-2']);
  });
});
