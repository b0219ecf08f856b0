import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

export interface LoggerOptions {
  level: LevelWithSilent;
  instanceId: string;
  /** Where lines go; default stdout through an asynchronous buffered writer. */
  destination?: DestinationStream;
}

/**
 * JSON lines, one object per event, with the instance id on every line so logs
 * from many instances can be merged and filtered. The default destination
 * writes asynchronously (sonic-boom): a request never waits on a write to
 * stdout, and pino flushes what is buffered when the process exits.
 */
export function createLogger(options: LoggerOptions): Logger {
  const destination = options.destination ?? pino.destination({ dest: 1, sync: false });
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
