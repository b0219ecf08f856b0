/**
 * Reading an OpenAPI document the way a client would: every operation, an
 * example request valid for its schemas (the document's own examples, else a
 * sample made from the schema), and validators for its documented responses.
 */
import { dereference } from '@readme/openapi-parser';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { sample } from 'openapi-sampler';
import type { JsonSchema, OpenApiDocument, OpenApiOperation, OpenApiParameter } from '../../src/volt/index.js';

export interface Operation {
  method: string;
  /** The templated path (`/api/v1/notes/{id}`). */
  path: string;
  operation: OpenApiOperation;
}

export interface ExampleRequest {
  /** Path with parameters filled and the query string. */
  url: string;
  init: RequestInit;
}

// OpenAPI keywords (`example`, `discriminator`, ...) are not JSON Schema's: not strict.
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats.default(ajv);
const compiled = new WeakMap<object, ValidateFunction>();

/** Problems of `value` against `schema` (empty when valid), as `path: message` lines. */
export function schemaErrors(schema: JsonSchema, value: unknown): string[] {
  let validate = compiled.get(schema);
  if (!validate) compiled.set(schema, (validate = ajv.compile(schema)));
  if (validate(value)) return [];
  return (validate.errors ?? []).map((error) => `${error.instancePath || '(root)'}: ${error.message} ${JSON.stringify(error.params)}`);
}

/** The document with every `$ref` replaced by what it points at (the input is not modified). */
export async function dereferenced(document: OpenApiDocument): Promise<OpenApiDocument> {
  return (await dereference(structuredClone(document) as never)) as unknown as OpenApiDocument;
}

const METHOD_ORDER = ['post', 'put', 'patch', 'get', 'delete'];

/** Every operation; writes first, so that reads of what they create (`/notes/{id}`) find it. */
export function operations(document: OpenApiDocument): Operation[] {
  const list: Operation[] = [];
  for (const [path, methods] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(methods)) list.push({ method: method.toUpperCase(), path, operation });
  }
  return list.sort((a, b) => METHOD_ORDER.indexOf(a.method.toLowerCase()) - METHOD_ORDER.indexOf(b.method.toLowerCase()));
}

/** The document's example for a schema, or a sample made from it; checked against the schema either way. */
export function exampleFor(schema: JsonSchema, explicit: unknown, where: string): unknown {
  const examples = schema.examples;
  const value = explicit !== undefined ? explicit : Array.isArray(examples) && examples.length > 0 ? examples[0] : sample(schema as never);
  const problems = schemaErrors(schema, value);
  if (problems.length > 0) throw new Error(`${where}: the example ${JSON.stringify(value)} does not match its own schema:\n  ${problems.join('\n  ')}`);
  return value;
}

/** A request valid for the operation: required parameters and the body filled from examples. */
export function exampleRequest({ method, path, operation }: Operation): ExampleRequest {
  const where = `${method} ${path}`;
  let url = path;
  const query = new URLSearchParams();
  const headers: Record<string, string> = {};
  for (const param of (operation.parameters ?? []) as OpenApiParameter[]) {
    const hasExample = param.example !== undefined || Array.isArray(param.schema.examples);
    if (!param.required && !hasExample) continue;
    if (param.in === 'header' && !param.required) continue;
    const value = String(exampleFor(param.schema, param.example, `${where} ${param.in} parameter ${param.name}`));
    if (param.in === 'path') url = url.replace(`{${param.name}}`, encodeURIComponent(value));
    else if (param.in === 'query') query.set(param.name, value);
    else if (param.in === 'header') headers[param.name] = value;
  }
  const init: RequestInit = { method, headers };
  const json = operation.requestBody?.content['application/json'];
  if (json?.schema) {
    headers['content-type'] = 'application/json';
    init.body = JSON.stringify(exampleFor(json.schema, json.example, `${where} body`));
  }
  const search = query.toString();
  return { url: search ? `${url}?${search}` : url, init };
}

/** The operation's success status: the one 2xx response it documents. */
export function successStatus(operation: OpenApiOperation): number {
  const statuses = Object.keys(operation.responses).filter((status) => status.startsWith('2'));
  if (statuses.length !== 1) throw new Error(`${operation.operationId}: expected one documented success status, found ${statuses.join(', ') || 'none'}`);
  return Number(statuses[0]);
}

/**
 * What is wrong with a response, compared with what the operation documents
 * for its status (empty when it matches): an undocumented status, another
 * content type, or a body outside the documented schema.
 */
export async function responseProblems(operation: OpenApiOperation, response: Response): Promise<string[]> {
  const documented = operation.responses[String(response.status)];
  if (!documented) {
    const body = await response.text();
    return [`status ${response.status} is not documented (documented: ${Object.keys(operation.responses).join(', ')}); body: ${body.slice(0, 300)}`];
  }
  const contentType = (response.headers.get('content-type') ?? '').split(';')[0]!.trim();
  if (!documented.content) {
    const body = await response.text();
    return body === '' ? [] : [`status ${response.status} is documented without a body, got ${body.slice(0, 300)}`];
  }
  const media = documented.content[contentType];
  if (!media)
    return [`content type ${contentType || '(none)'} is not documented for ${response.status} (documented: ${Object.keys(documented.content).join(', ')})`];
  if (contentType !== 'application/json') {
    await response.body?.cancel();
    return [];
  }
  const body: unknown = await response.json();
  return media.schema ? schemaErrors(media.schema, body).map((problem) => `body ${problem}; body was ${JSON.stringify(body).slice(0, 300)}`) : [];
}
