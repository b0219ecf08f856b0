import type { Readable, Writable } from 'node:stream';

/** The process surface `run` uses, passed in so tests can run the CLI in-process. */
export interface RunContext {
  cwd: string;
  env: NodeJS.ProcessEnv;
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable;
  stdin: Readable & { isTTY?: boolean };
}

export interface Io extends RunContext {
  print(text: string): void;
  printError(text: string): void;
}

export function createIo(context: RunContext): Io {
  return {
    ...context,
    print: (text) => void context.stdout.write(`${text}\n`),
    printError: (text) => void context.stderr.write(`${text}\n`),
  };
}
