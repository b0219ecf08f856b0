/**
 * Errors with a message meant for the user. `main` prints the message and the
 * hint (never a stack trace) and exits with code 1; anything else is a bug and
 * keeps its stack.
 */
export class CliError extends Error {
  override readonly name: string = 'CliError';
  constructor(
    message: string,
    /** Printed under the message. */
    readonly hint: string | undefined = undefined,
  ) {
    super(message);
  }
}

/** The command line or an answer is wrong; the hint points at --help. */
export class UsageError extends CliError {
  override readonly name: string = 'UsageError';
  constructor(message: string, hint: string | undefined = 'Run create-volt-scaled --help for usage.') {
    super(message, hint);
  }
}

/** A step failed after the project was written (install); the project is kept. */
export class StepFailedError extends Error {
  override readonly name = 'StepFailedError';
  constructor(
    message: string,
    readonly howToFinish: string,
  ) {
    super(message);
  }
}
