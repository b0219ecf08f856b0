import { pino, type DestinationStream, type LevelWithSilent, type Logger as PinoLogger } from 'pino';
import type { VoltLogger } from '../volt/index.js';

/**
 * The one logger type of the app: the kernel's contract (pino's `info`,
 * `warn`, `error`, `debug`, `child`), so a pino logger, the kernel's JSON
 * logger and `silentLogger` all fit. Errors go under `err` (`{ err: error }`):
 * pino then writes their type, message and stack.
 */
export type Logger = VoltLogger;

export interface LoggerOptions {
  level: LevelWithSilent;
  instanceId: string;
  /** Where lines go; default stdout through an asynchronous buffered writer. */
  destination?: DestinationStream;
  /** Fields added to every line written through pino (tracing on: the active span's ids). */
  mixin?: (() => object) | undefined;
}

/**
 * Asynchronous, buffered writer (sonic-boom): a request never waits on a
 * write, and lines leave in writes of ~4 KB instead of one system call per
 * line, flushed at least every 250 ms and synchronously when the process
 * exits. A SIGKILL can lose the last fraction of a second of lines.
 */
export function asyncDestination(dest: number | string = 1): DestinationStream {
  return pino.destination({ dest, sync: false, minLength: 4096, periodicFlush: 250 });
}

/**
 * Direct access to a logger's output for code that writes many lines of one
 * fixed shape (the request log): it builds the JSON itself and hands lines
 * over in batches, then they look exactly like `logger.info(fields, msg)`.
 */
export interface JsonLineSink {
  enabled(level: 'info' | 'debug'): boolean;
  /** The start of a line up to its bindings: `{"level":"info","time":…,"instance":…,"pid":…` */
  head(level: 'info' | 'debug'): string;
  /** Whole lines, newline-terminated. */
  write(lines: string): void;
  /** Pushes out whatever the destination still buffers (used at exit). */
  flushSync(): void;
}

const sinks = new WeakMap<object, JsonLineSink>();

/**
 * JSON lines, one object per event, with the instance id on every line so logs
 * from many instances can be merged and filtered.
 */
export function createLogger(options: LoggerOptions): PinoLogger {
  const destination = options.destination ?? asyncDestination(1);
  const base = { instance: options.instanceId, pid: process.pid };
  const logger = pino(
    {
      level: options.level,
      base,
      // `"level":"info"` rather than `30`: readable, and what log pipelines match on.
      formatters: { level: (label) => ({ level: label }) },
      ...(options.mixin ? { mixin: options.mixin } : {}),
    },
    destination,
  );
  // pino writes `level`, `time`, the base bindings, the fields, then `msg`.
  const bindings = `,"instance":${JSON.stringify(base.instance)},"pid":${base.pid}`;
  // Many lines share a millisecond under load: the head is rebuilt only when the time or level changes.
  let headTime = 0;
  let headLevel = '';
  let head = '';
  sinks.set(logger, {
    enabled: (level) => logger.isLevelEnabled(level),
    head: (level) => {
      const now = Date.now();
      if (now !== headTime || level !== headLevel) {
        headTime = now;
        headLevel = level;
        head = `{"level":"${level}","time":${now}${bindings}`;
      }
      return head;
    },
    write: (lines) => destination.write(lines),
    flushSync: () => (destination as { flushSync?: () => void }).flushSync?.(),
  });
  return logger;
}

/** The line sink of a logger made by `createLogger`; undefined for any other logger. */
export function jsonLineSinkOf(logger: object): JsonLineSink | undefined {
  return sinks.get(logger);
}
