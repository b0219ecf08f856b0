/**
 * Errors the user can fix. `main` prints their message (never a stack trace)
 * and exits with code 1; anything else is a bug and keeps its stack.
 */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  /** Printed under the message; bad flags point at --help. */
  readonly hint: string | undefined;

  constructor(message: string, hint: string | undefined = 'Run create-volt-scaled --help for usage.') {
    super(message);
    this.hint = hint;
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
