/** `log.info({ noteId }, 'note saved')`, or a message alone: `log.info('note saved')`. */
export type LogMethod = (objOrMsg: object | string, msg?: string) => void;

/**
 * The logger contract: the subset of pino's API the kernel uses, so a pino
 * instance can be passed as is (`Volt.context(...).logger(pino())`).
 */
export interface VoltLogger {
  info: LogMethod;
  warn: LogMethod;
  error: LogMethod;
  debug: LogMethod;
  child(bindings: Record<string, unknown>): VoltLogger;
}

type Level = 'debug' | 'info' | 'warn' | 'error';
const LEVELS: Record<Level | 'silent', number> = { debug: 20, info: 30, warn: 40, error: 50, silent: 100 };

/**
 * A dependency-free JSON-lines logger with pino's shape, used when none is
 * configured. Errors are serialized with their message (and stack).
 */
export function createJsonLogger(options: { level?: Level | 'silent'; bindings?: Record<string, unknown>; write?: (line: string) => void } = {}): VoltLogger {
  const threshold = LEVELS[options.level ?? 'info'];
  const bindings = options.bindings ?? {};
  const write = options.write ?? ((line: string) => process.stdout.write(line));
  const log =
    (level: Level): LogMethod =>
    (objOrMsg: object | string, msg?: string) => {
      if (LEVELS[level] < threshold) return;
      const record: Record<string, unknown> = { level: LEVELS[level], time: Date.now(), ...bindings };
      if (typeof objOrMsg === 'string') {
        record.msg = objOrMsg;
        write(`${JSON.stringify(record)}\n`);
        return;
      }
      for (const [key, value] of Object.entries(objOrMsg)) {
        record[key] = value instanceof Error ? { type: value.name, message: value.message, stack: value.stack } : value;
      }
      if (msg !== undefined) record.msg = msg;
      write(`${JSON.stringify(record)}\n`);
    };
  return {
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
    child: (more) => createJsonLogger({ ...options, bindings: { ...bindings, ...more } }),
  };
}

const noop = () => {};
/** Discards everything (tests). */
export const silentLogger: VoltLogger = { info: noop, warn: noop, error: noop, debug: noop, child: () => silentLogger };
