/** HTTP status for each well-known error code; anything else is a 500. */
const STATUS_BY_CODE: Record<string, number> = {
  BAD_REQUEST: 400,
  VALIDATION_ERROR: 400,
  INVALID_JSON: 400,
  INVALID_BODY: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  REQUEST_TIMEOUT: 408,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  UNPROCESSABLE: 422,
  UNPROCESSABLE_ENTITY: 422,
  TOO_MANY_REQUESTS: 429,
  INTERNAL_SERVER_ERROR: 500,
  SERVICE_UNAVAILABLE: 503,
};

export function statusForCode(code: string): number {
  return STATUS_BY_CODE[code] ?? 500;
}

export interface VoltErrorOptions {
  /** Overrides the status derived from the code. */
  status?: number;
  /** Sent as `error.details` (e.g. validation issues). */
  details?: unknown;
  /** Sent as `error.data`. */
  data?: unknown;
  cause?: unknown;
}

/**
 * An error that is safe to show to the client: a handler or procedure that
 * throws one gets its code, message and status in the envelope. Any other
 * thrown value becomes a generic 500.
 */
export class VoltError extends Error {
  readonly code: string;
  readonly status: number;
  readonly details: unknown;
  readonly data: unknown;

  constructor(code: string, message: string, options: VoltErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'VoltError';
    this.code = code;
    this.status = options.status ?? statusForCode(code);
    this.details = options.details;
    this.data = options.data;
  }
}

export interface ErrorBody {
  code: string;
  message: string;
  details?: unknown;
  data?: unknown;
  stack?: string;
}

export function errorBody(error: VoltError): ErrorBody {
  const body: ErrorBody = { code: error.code, message: error.message };
  if (error.details !== undefined) body.details = error.details;
  if (error.data !== undefined) body.data = error.data;
  return body;
}

/** The body of every JSON error response, whoever answers: `{ data: null, error }`. */
export function errorEnvelope(error: ErrorBody): string {
  return JSON.stringify({ data: null, error });
}
