import { jsonLineSinkOf, type JsonLineSink, type Logger } from '../logger.js';
import type { TraceIds } from '../tracing/index.js';

/** One finished request, as its log line reports it. */
export interface RequestRecord {
  reqId: string;
  method: string;
  /** Path without the query string (queries can carry secrets). */
  path: string;
  /** Route pattern, or the operations path (`/health/ready`). */
  route: string;
  status: number;
  durationMs: number;
  /** The client went away before the whole response was written. */
  aborted: boolean;
  /** Tracing on: the request's trace, so the line leads to it. */
  trace?: TraceIds;
}

export interface RequestLog {
  /** Whether a line at `level` would be written: callers skip gathering the record otherwise. */
  enabled(level: 'info' | 'debug'): boolean;
  /** Logs one request at `level` (API requests at info, probes and scrapes at debug). */
  write(record: RequestRecord, level: 'info' | 'debug'): void;
  /** Hands lines still batched in memory to the logger's destination. */
  flush(): void;
}

/** Lines are handed over once this much is pending (sonic-boom's largest single write)... */
const BATCH_CHARS = 16 * 1024;
/** ...or this long after the first of them, so a quiet instance still logs promptly. */
const BATCH_MS = 100;

/**
 * One line per request, at thousands of requests per second. Through pino's
 * general path a line cost a quarter of a small request's CPU (serializing an
 * arbitrary object, then sonic-boom measuring the byte length of its whole
 * pending buffer on every write; docs/performance.md). For a logger made
 * by `createLogger`, this builds the fixed-shape line from a template (the
 * bytes pino writes for the same fields; `aborted` only when true) and hands lines to the
 * destination 16 KB at a time, or 100 ms after the first one (pino's own
 * buffered destination waits up to 250 ms), and at exit. Any other logger
 * gets `logger.info(record, 'request')`.
 */
export function createRequestLog(logger: Logger): RequestLog {
  const sink = jsonLineSinkOf(logger);
  if (sink === undefined) {
    return {
      enabled: () => true,
      write(record, level) {
        const { aborted, trace, ...fields } = record;
        logger[level]({ ...fields, ...(aborted ? { aborted } : {}), ...trace }, 'request');
      },
      flush() {},
    };
  }
  return batchedRequestLog(sink);
}

function batchedRequestLog(sink: JsonLineSink): RequestLog {
  // Lines are kept apart and joined once: a string grown with `+=` is a chain
  // the destination would have to flatten, measure and copy piece by piece.
  let pending: string[] = [];
  let pendingChars = 0;
  let timer: NodeJS.Timeout | undefined;

  function flush(): void {
    clearTimeout(timer);
    timer = undefined;
    if (pending.length === 0) return;
    const lines = pending.join('');
    pending = [];
    pendingChars = 0;
    sink.write(lines);
  }
  const flushAtExit = () => {
    flush();
    try {
      sink.flushSync();
    } catch {
      // The destination is closed or not open yet: nothing more can be written.
    }
  };
  unflushedAtExit.add(flushAtExit);
  ensureExitHook();

  // Static routes repeat the same method, path, route and status request after
  // request: that part of the line is kept per route (one entry per route
  // pattern, as only a path equal to its pattern is kept) and reused.
  const middles = new Map<string, { method: string; status: number; middle: string }>();
  function middleOf(record: RequestRecord): string {
    if (record.path !== record.route) return middle(record);
    const known = middles.get(record.route);
    if (known !== undefined && known.method === record.method && known.status === record.status) return known.middle;
    const built = middle(record);
    middles.set(record.route, { method: record.method, status: record.status, middle: built });
    return built;
  }

  return {
    enabled: (level) => sink.enabled(level),
    write(record, level) {
      if (!sink.enabled(level)) return;
      const line =
        `${sink.head(level)},"reqId":${jsonString(record.reqId)}${middleOf(record)}${milliseconds(record.durationMs)}` +
        `${record.aborted ? ',"aborted":true' : ''}${record.trace === undefined ? '' : traceFields(record.trace)},"msg":"request"}\n`;
      pending.push(line);
      pendingChars += line.length;
      if (pendingChars >= BATCH_CHARS) flush();
      else if (timer === undefined) timer = setTimeout(flush, BATCH_MS).unref();
    },
    flush,
  };
}

/** `,"method":…,"path":…,"route":…,"status":…,"durationMs":` */
function middle(record: RequestRecord): string {
  return (
    `,"method":${jsonString(record.method)},"path":${jsonString(record.path)}` + `,"route":${jsonString(record.route)},"status":${record.status},"durationMs":`
  );
}

/** The ids are lower-case hex (the tracing SDK's own), so they need no escaping. */
function traceFields(trace: TraceIds): string {
  return `,"trace_id":"${trace.trace_id}","span_id":"${trace.span_id}","trace_flags":"${trace.trace_flags}"`;
}

// ".001" … ".999" without trailing zeros, "" for a whole number of milliseconds.
const FRACTIONS = Array.from({ length: 1000 }, (_, i) => (i === 0 ? '' : `.${String(i).padStart(3, '0').replace(/0+$/, '')}`));
/**
 * A duration as JSON.stringify writes it. Rounded to the microsecond (as the
 * operations layer records it), it is whole milliseconds from V8's
 * small-number string cache plus a fraction from the table, instead of a
 * shortest-round-trip double conversion per line.
 */
function milliseconds(durationMs: number): string {
  const micros = Math.round(durationMs * 1000);
  if (micros / 1000 !== durationMs || micros < 0 || micros > Number.MAX_SAFE_INTEGER) return JSON.stringify(durationMs);
  return `${Math.floor(micros / 1000)}${FRACTIONS[micros % 1000]}`;
}

/** Printable ASCII without `"` or `\`: quoting is enough (faster than JSON.stringify). */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
function jsonString(value: string): string {
  return PLAIN.test(value) ? `"${value}"` : JSON.stringify(value);
}

// One `exit` listener for every request log of the process (tests create many):
// lines still batched here reach the destination.
const unflushedAtExit = new Set<() => void>();
let exitHookInstalled = false;
function ensureExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const flushNow of unflushedAtExit) flushNow();
  });
}
