import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

export interface LoggerOptions {
  level: LevelWithSilent;
  instanceId: string;
  /** Where lines go; default stdout through an asynchronous buffered writer. */
  destination?: DestinationStream;
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
 * JSON lines, one object per event, with the instance id on every line so logs
 * from many instances can be merged and filtered.
 */
export function createLogger(options: LoggerOptions): Logger {
  const destination = options.destination ?? asyncDestination(1);
  return pino(
    {
      level: options.level,
      base: { instance: options.instanceId, pid: process.pid },
      // `"level":"info"` rather than `30`: readable, and what log pipelines match on.
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}
