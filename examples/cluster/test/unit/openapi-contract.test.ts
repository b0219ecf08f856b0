/**
 * The API document against the API itself: the app serves a valid OpenAPI
 * 3.1 document, every operation it documents answers an example request
 * (valid for its schemas) with the status and body it documents, and bad
 * input gets one of the errors it documents. Adding a controller adds its
 * operations here without touching this file.
 */
import { validate } from '@readme/openapi-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { silentLogger, type OpenApiDocument } from '../../src/volt/index.js';
import { AUTH_ENV, signToken } from '../support/auth-tokens.js';
import { dereferenced, exampleRequest, operations, responseProblems, successStatus, type Operation } from '../support/openapi.js';
import { serve } from '../support/serve.js';

let app: App;
let origin: string;
let document: OpenApiDocument;
let resolved: OpenApiDocument;
/** Sent to the operations that require a bearer token. */
let token: string;

// The validator compiles the OpenAPI 3.1 schema (a second or more on a busy machine).
const SLOW = 60_000;

beforeAll(async () => {
  app = createApp(loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', INSTANCE_ID: 'contract', METRICS_PORT: 'off', ...AUTH_ENV }), { logger: silentLogger });
  token = await signToken({ sub: 'contract', name: 'Contract' });
  origin = (await serve(app.server)).url;
  const res = await fetch(`${origin}/api/v1/openapi.json`);
  expect(res.status).toBe(200);
  document = (await res.json()) as OpenApiDocument;
  resolved = await dereferenced(document);
}, SLOW);
afterAll(() => app.close());

/** Whether every security alternative of the operation needs credentials (an empty one is anonymous access). */
const requiresCredentials = (op: Operation) => (op.operation.security ?? [{}]).every((requirement) => Object.keys(requirement).length > 0);

/** `init` with the bearer token when the operation requires one (the document's only scheme). */
function withCredentials(op: Operation, init: RequestInit): RequestInit {
  if (!requiresCredentials(op)) return init;
  return { ...init, headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${token}` } };
}

/** Sends `init` to the operation's path, with credentials when it requires them, and lists how the response differs from what is documented. */
async function call(op: Operation, url: string, init: RequestInit): Promise<{ status: number; problems: string[] }> {
  const controller = new AbortController();
  const response = await fetch(`${origin}${url}`, { ...withCredentials(op, init), signal: controller.signal });
  const problems = await responseProblems(op.operation, response);
  controller.abort(); // an event stream stays open otherwise
  return { status: response.status, problems };
}

describe('the OpenAPI document', { timeout: SLOW }, () => {
  it('is valid OpenAPI 3.1, with no warnings (@readme/openapi-parser)', async () => {
    const result = await validate(structuredClone(document) as never);
    expect(result.valid ? [] : result.errors).toEqual([]);
    expect(result.warnings).toEqual([]);
    expect(document.openapi).toBe('3.1.0');
  });

  it('documents every route the router serves, and nothing else', () => {
    const served = app.router.routes.map((route) => `${route.method} ${route.path.replace(/:(\w+)/g, '{$1}')}`).sort();
    const documented = operations(document)
      .map((op) => `${op.method} ${op.path}`)
      .sort();
    expect(documented).toEqual(served);
  });

  it('is what `router.openapi()` returns, built once', () => {
    expect(JSON.parse(JSON.stringify(app.router.openapi()))).toEqual(document);
    expect(app.router.openapi()).toBe(app.router.openapi());
  });
});

describe('every documented operation', { timeout: SLOW }, () => {
  it('answers an example request valid for its schemas with its documented success status and body', async () => {
    const results: string[] = [];
    for (const op of operations(resolved)) {
      const { url, init } = exampleRequest(op);
      const { status, problems } = await call(op, url, init);
      const expected = successStatus(op.operation);
      if (status !== expected) problems.unshift(`answered ${status}, documented success ${expected}`);
      results.push(...problems.map((problem) => `${op.method} ${url}: ${problem}`));
    }
    expect(results).toEqual([]);
    expect(operations(resolved).length).toBeGreaterThanOrEqual(6);
  });

  it('answers a malformed body, a wrong media type and a body outside its schema with a documented error', async () => {
    const results: string[] = [];
    const withBody = operations(resolved).filter((op) => op.operation.requestBody);
    expect(withBody.length).toBeGreaterThan(0);
    for (const op of withBody) {
      const url = exampleRequest(op).url;
      const cases: [string, RequestInit, number, string][] = [
        ['malformed JSON', { body: '{"text":', headers: { 'content-type': 'application/json' } }, 400, 'INVALID_JSON'],
        ['text/plain', { body: 'hello', headers: { 'content-type': 'text/plain' } }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
        ['an array for an object', { body: '[]', headers: { 'content-type': 'application/json' } }, 400, 'VALIDATION_ERROR'],
      ];
      for (const [label, init, expectedStatus, code] of cases) {
        const response = await fetch(`${origin}${url}`, withCredentials(op, { ...init, method: op.method }));
        const copy = response.clone();
        const problems = await responseProblems(op.operation, response);
        const body = (await copy.json()) as { error?: { code?: string } };
        if (response.status !== expectedStatus || body.error?.code !== code)
          problems.unshift(`expected ${expectedStatus} ${code}, got ${response.status} ${body.error?.code}`);
        results.push(...problems.map((problem) => `${op.method} ${url} with ${label}: ${problem}`));
      }
    }
    expect(results).toEqual([]);
  });

  it('answers 401 UNAUTHORIZED, as documented, to an operation that requires credentials when none or bad ones are sent', async () => {
    const results: string[] = [];
    const secured = operations(resolved).filter(requiresCredentials);
    expect(secured.length).toBeGreaterThan(0);
    for (const op of secured) {
      const { url, init } = exampleRequest(op);
      for (const [label, headers] of [
        ['no credentials', {}],
        ['a token signed with another key', { authorization: `Bearer ${await signToken({ secret: 'another-secret-another-secret-0123456' })}` }],
      ] as const) {
        const response = await fetch(`${origin}${url}`, { ...init, headers: { ...(init.headers as Record<string, string>), ...headers } });
        const copy = response.clone();
        const problems = await responseProblems(op.operation, response);
        const body = (await copy.json()) as { error?: { code?: string } };
        if (response.status !== 401 || body.error?.code !== 'UNAUTHORIZED')
          problems.unshift(`expected 401 UNAUTHORIZED, got ${response.status} ${body.error?.code}`);
        results.push(...problems.map((problem) => `${op.method} ${url} with ${label}: ${problem}`));
      }
    }
    expect(results).toEqual([]);
  });

  it('answers a malformed path parameter, and an id that does not exist, with a documented error', async () => {
    const results: string[] = [];
    const withParams = operations(resolved).filter((op) => op.path.includes('{'));
    expect(withParams.length).toBeGreaterThan(0);
    for (const op of withParams) {
      const example = exampleRequest(op);
      for (const [label, value, expected] of [
        ['a malformed escape', '%E0%A4%A', 400],
        ['an id that does not exist', '999999', 404],
      ] as const) {
        const url = op.path.replace(/\{\w+\}/g, value);
        const { status, problems } = await call(op, url, { ...example.init, body: example.init.body });
        if (status !== expected) problems.unshift(`expected ${expected}, got ${status}`);
        results.push(...problems.map((problem) => `${op.method} ${url} (${label}): ${problem}`));
      }
    }
    expect(results).toEqual([]);
  });
});
