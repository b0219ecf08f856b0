import { statusForCode } from '../errors.js';
import type { SchemaComponents } from './json-schema.js';
import type { ErrorDoc, JsonSchema, OpenApiResponse } from './types.js';

/** What the codes the kernel and the response builder answer with mean. */
const MEANINGS: Record<string, string> = {
  VALIDATION_ERROR: 'The query or body does not match its schema; `details` lists each problem.',
  INVALID_JSON: 'The body is not valid JSON.',
  BAD_REQUEST: 'The request could not be read (a malformed path parameter, an interrupted body) or was refused by the handler.',
  UNAUTHORIZED: 'Credentials are missing or not valid.',
  FORBIDDEN: 'The credentials do not allow this request.',
  NOT_FOUND: 'The resource does not exist.',
  CONFLICT: 'The request conflicts with the current state of the resource.',
  PAYLOAD_TOO_LARGE: "The body is larger than the router's limit; the connection is closed.",
  UNSUPPORTED_MEDIA_TYPE: 'The body is neither application/json nor application/x-www-form-urlencoded.',
  TOO_MANY_REQUESTS: 'Too many requests; try again later.',
  INTERNAL_SERVER_ERROR: 'An unexpected error. The message is generic unless the router exposes errors (development).',
  SERVICE_UNAVAILABLE: 'The service cannot answer right now; try again later.',
};

/** Errors every action may answer: its handler can always fail unexpectedly. */
export const ALWAYS: readonly ErrorDoc[] = ['INTERNAL_SERVER_ERROR'];
/** Errors of reading a body (every mutation reads one). */
export const BODY_ERRORS: readonly ErrorDoc[] = ['INVALID_JSON', 'PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE'];
export const VALIDATION_ERRORS: readonly ErrorDoc[] = ['VALIDATION_ERROR'];
/** A path parameter with a malformed percent-escape. */
export const PARAM_ERRORS: readonly ErrorDoc[] = ['BAD_REQUEST'];

interface ResolvedError {
  code: string;
  status: number;
  description: string;
}

function resolve(error: ErrorDoc): ResolvedError {
  const doc = typeof error === 'string' ? { code: error } : error;
  return {
    code: doc.code,
    status: doc.status ?? statusForCode(doc.code),
    description: doc.description ?? MEANINGS[doc.code] ?? `Answered with code \`${doc.code}\`.`,
  };
}

/** `NOT_FOUND` -> `NotFoundError`, `VALIDATION_ERROR` -> `ValidationError`. */
function componentName(code: string): string {
  const pascal = code
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean)
    .map((word) => word[0]!.toUpperCase() + word.slice(1))
    .join('');
  return pascal.endsWith('Error') ? pascal : `${pascal}Error`;
}

/**
 * The envelope of one error code: `{ data: null, error: { code, message, ... } }`.
 * `error` may carry more (`details` and `data` of a thrown VoltError), so its
 * other properties are left open.
 */
function envelopeSchema(error: ResolvedError, details: JsonSchema | undefined): JsonSchema {
  return {
    type: 'object',
    description: error.description,
    required: ['data', 'error'],
    additionalProperties: false,
    properties: {
      data: { type: 'null' },
      error: {
        type: 'object',
        required: ['code', 'message'],
        properties: {
          code: { type: 'string', const: error.code },
          message: { type: 'string' },
          ...(details ? { details } : {}),
          stack: { type: 'string', description: 'Only when the router exposes errors (development).' },
        },
      },
    },
  };
}

/**
 * The error responses of an operation, one per status: each code's envelope
 * is a component (`NotFoundError`), and a status answered with several codes
 * documents them as `oneOf`.
 */
export function errorResponses(components: SchemaComponents, errors: readonly ErrorDoc[]): Record<string, OpenApiResponse> {
  const byStatus = new Map<number, Map<string, ResolvedError>>();
  for (const error of errors.map(resolve)) {
    let codes = byStatus.get(error.status);
    if (!codes) byStatus.set(error.status, (codes = new Map()));
    if (!codes.has(error.code)) codes.set(error.code, error);
  }
  const responses: Record<string, OpenApiResponse> = {};
  for (const status of [...byStatus.keys()].sort((a, b) => a - b)) {
    const codes = [...byStatus.get(status)!.values()];
    const refs = codes.map((error) => components.define(componentName(error.code), envelopeSchema(error, detailsSchema(components, error.code))));
    responses[String(status)] = {
      description: codes.map((error) => `\`${error.code}\`: ${error.description}`).join('\n\n'),
      content: { 'application/json': { schema: refs.length === 1 ? refs[0]! : { oneOf: refs } } },
    };
  }
  return responses;
}

function detailsSchema(components: SchemaComponents, code: string): JsonSchema | undefined {
  if (code !== 'VALIDATION_ERROR') return undefined;
  const detail = components.define('ValidationDetail', {
    type: 'object',
    required: ['location', 'path', 'message'],
    additionalProperties: false,
    properties: {
      location: { type: 'string', enum: ['body', 'query'] },
      path: { type: 'string', description: 'Dotted path of the field (`items.0.name`); empty for the whole value.' },
      message: { type: 'string' },
    },
  });
  return { type: 'array', items: detail };
}
