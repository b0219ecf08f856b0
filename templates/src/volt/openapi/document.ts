import { joinPath, SSE_PATH } from '../kernel.js';
import { isProcedure, isThenable } from '../procedure.js';
import type { StandardSchemaV1 } from '../standard-schema.js';
import type { Procedure, VoltAction, VoltController } from '../types.js';
import { ALWAYS, BODY_ERRORS, errorResponses, PARAM_ERRORS, VALIDATION_ERRORS } from './errors.js';
import { COMPONENT_REF, SchemaComponents } from './json-schema.js';
import type {
  DocsConfig,
  ErrorDoc,
  JsonSchema,
  OpenApiDocument,
  OpenApiOperation,
  OpenApiParameter,
  OpenApiSecuritySchemeObject,
  SecurityRequirement,
} from './types.js';

export interface DocumentSource {
  controllers: readonly VoltController[];
  basePATH: string;
  baseURL?: string | undefined;
  docs: DocsConfig;
  /**
   * Set when the router serves the realtime endpoint: the errors its transport
   * refuses a stream with, and the procedures that run before it (`use`).
   */
  realtime: { errors: readonly ErrorDoc[]; procedures?: readonly Procedure[] } | null;
}

export interface BuiltDocument {
  document: OpenApiDocument;
  /** Schemas that could not be described (documented as any value), actions without `output`, ... */
  warnings: string[];
}

const DEFAULT_INFO = { title: 'API', version: '1.0.0' };
const REALTIME_TAG = 'realtime';

/**
 * The OpenAPI 3.1 document of a router: one operation per action, with its
 * path parameters, query and body schemas, the `{ data, error }` envelope of
 * its success response and one response per error status it can answer.
 * Pure and synchronous: routers build it once and keep it.
 */
export function buildOpenApiDocument(source: DocumentSource): BuiltDocument {
  const components = new SchemaComponents();
  const schemes = source.docs.securitySchemes ?? {};
  const paths: OpenApiDocument['paths'] = {};
  const tags: { name: string; description?: string }[] = [];

  for (const controller of source.controllers) {
    tags.push(controller.description ? { name: controller.name, description: controller.description } : { name: controller.name });
    for (const [actionName, action] of Object.entries(controller.actions) as [string, VoltAction][]) {
      if (action.docs?.hidden) continue;
      const route = joinPath(source.basePATH, controller.path, action.path);
      const { path, params } = openApiPath(route);
      if (route.includes('*')) components.warnings.push(`${controller.name}.${actionName}: wildcard segments of ${route} are documented as written`);
      const operation = describeAction({ components, schemes, controllerName: controller.name, actionName, action, params });
      (paths[path] ??= {})[action.method.toLowerCase()] = operation;
    }
  }
  if (source.realtime) {
    tags.push({ name: REALTIME_TAG, description: 'Server-Sent Events: live updates any instance can resume.' });
    paths[openApiPath(joinPath(source.basePATH, SSE_PATH)).path] = { get: describeRealtime(components, schemes, source.realtime) };
  }

  const base = isRecord(source.docs.openapi) ? source.docs.openapi : {};
  const baseComponents = isRecord(base.components) ? base.components : {};
  const servers = source.docs.servers ?? (source.baseURL ? [{ url: source.baseURL }] : undefined);
  const document: OpenApiDocument = {
    ...base,
    openapi: '3.1.0',
    info: source.docs.info ?? (base.info as OpenApiDocument['info'] | undefined) ?? DEFAULT_INFO,
    ...(servers ? { servers } : {}),
    tags,
    paths,
    components: {
      ...baseComponents,
      schemas: components.schemas,
      ...(Object.keys(schemes).length > 0 ? { securitySchemes: schemes } : {}),
    },
  };
  return { document, warnings: components.warnings };
}

interface ActionSource {
  components: SchemaComponents;
  schemes: Record<string, OpenApiSecuritySchemeObject>;
  controllerName: string;
  actionName: string;
  action: VoltAction;
  params: string[];
}

function describeAction({ components, schemes, controllerName, actionName, action, params }: ActionSource): OpenApiOperation {
  const key = `${controllerName}.${actionName}`;
  const prefix = pascal(controllerName) + pascal(actionName);
  const docs = action.docs ?? {};
  const procedures = (action.use ?? []).filter(isProcedure) as Procedure[];

  const parameters: OpenApiParameter[] = params.map((name) => {
    const schema = docs.params?.[name];
    return schema
      ? parameter(name, 'path', true, components.inline(schema, 'input', `${prefix}${pascal(name)}`, `${key} param ${name}`))
      : parameter(name, 'path', true, { type: 'string' });
  });
  for (const name of Object.keys(docs.params ?? {})) {
    if (!params.includes(name)) components.warnings.push(`${key}: docs.params.${name} is not a parameter of its path`);
  }
  if (action.query) parameters.push(...queryParameters(components, action.query, `${prefix}Query`, key));
  for (const procedure of procedures) parameters.push(...(procedure.docs?.parameters ?? []));

  const errors: ErrorDoc[] = [...(docs.errors ?? [])];
  for (const procedure of procedures) errors.push(...(procedure.docs?.errors ?? []));
  if (params.length > 0) errors.push(...PARAM_ERRORS);
  if (action.type === 'mutation') errors.push(...BODY_ERRORS);
  if (action.query || action.body) errors.push(...VALIDATION_ERRORS);
  errors.push(...ALWAYS);

  const status = docs.status ?? 200;
  let data: JsonSchema = { description: 'Not documented: the action declares no `output` schema.' };
  if (action.output) data = components.component(action.output, 'output', `${prefix}Output`, `${key} output`);
  else if (status !== 204) components.warnings.push(`${key}: no \`output\` schema; its response data is documented as any value`);

  const operation: OpenApiOperation = {
    operationId: key,
    summary: docs.summary ?? action.description ?? action.name ?? actionName,
    tags: docs.tags ?? [controllerName],
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(action.body
      ? {
          requestBody: {
            required: !acceptsUndefined(action.body),
            content: { 'application/json': { schema: components.component(action.body, 'input', `${prefix}Body`, `${key} body`) } },
          },
        }
      : {}),
    responses: {
      [String(status)]:
        status === 204 ? { description: 'No content.' } : { description: 'Success.', content: { 'application/json': { schema: successEnvelope(data) } } },
      ...errorResponses(components, errors),
    },
  };
  setSecurity(operation, docs.security ?? procedureSecurity(procedures), schemes, key);
  if (docs.deprecated) operation.deprecated = true;
  return operation;
}

function setSecurity(
  operation: OpenApiOperation,
  requirements: SecurityRequirement[] | undefined,
  schemes: Record<string, OpenApiSecuritySchemeObject>,
  key: string,
): void {
  const security = requirements?.map(definedEntries);
  if (!security) return;
  checkSchemes(security, schemes, key);
  operation.security = security;
}

function describeRealtime(
  components: SchemaComponents,
  schemes: Record<string, OpenApiSecuritySchemeObject>,
  realtime: NonNullable<DocumentSource['realtime']>,
): OpenApiOperation {
  const text = { type: 'string' };
  const procedures = realtime.procedures ?? [];
  const errors = [...realtime.errors, ...procedures.flatMap((procedure) => procedure.docs?.errors ?? []), ...ALWAYS];
  const operation: OpenApiOperation = {
    operationId: 'realtime.events',
    summary: 'Event stream',
    description:
      'A `text/event-stream` of the named channels. Each event has an `id:` (its place in the channel), an `event:` type and JSON `data:`; ' +
      'a client that reconnects with `Last-Event-ID` (or `lastEventId`) receives what it missed, from any instance.',
    tags: [REALTIME_TAG],
    parameters: [
      {
        ...parameter('channels', 'query', false, text),
        description: "Channel names, comma-separated; without it, the server's default channels.",
        example: 'broadcast',
      },
      { ...parameter('lastEventId', 'query', false, text), description: 'Resume after this event id (EventSource cannot set headers when it is re-created).' },
      { ...parameter('Last-Event-ID', 'header', false, text), description: 'Resume after this event id (sent by EventSource when it reconnects).' },
      ...procedures.flatMap((procedure) => procedure.docs?.parameters ?? []),
    ],
    responses: {
      '200': { description: 'The event stream; it stays open.', content: { 'text/event-stream': { schema: text } } },
      ...errorResponses(components, errors),
    },
  };
  setSecurity(operation, procedureSecurity(procedures), schemes, 'realtime.events');
  return operation;
}

function parameter(name: string, location: OpenApiParameter['in'], required: boolean, schema: JsonSchema): OpenApiParameter {
  const param: OpenApiParameter = { name, in: location, required, schema };
  if (typeof schema.description === 'string') param.description = schema.description;
  return param;
}

/** A query schema is documented as one parameter per property of its object. */
function queryParameters(components: SchemaComponents, schema: StandardSchemaV1, name: string, key: string): OpenApiParameter[] {
  const json = resolveComponent(components, components.inline(schema, 'input', name, `${key} query`));
  const properties = json.properties;
  if (json.type !== 'object' || !isRecord(properties)) {
    if (Object.keys(json).length > 0) components.warnings.push(`${key}: the query schema is not an object; its parameters are not documented`);
    return [];
  }
  const required = Array.isArray(json.required) ? (json.required as string[]) : [];
  return Object.entries(properties).map(([property, propertySchema]) =>
    parameter(property, 'query', required.includes(property), propertySchema as JsonSchema),
  );
}

function resolveComponent(components: SchemaComponents, schema: JsonSchema): JsonSchema {
  const ref = schema.$ref;
  if (typeof ref !== 'string' || !ref.startsWith(COMPONENT_REF)) return schema;
  return components.schemas[ref.slice(COMPONENT_REF.length)] ?? schema;
}

function successEnvelope(data: JsonSchema): JsonSchema {
  return {
    type: 'object',
    required: ['data', 'error'],
    additionalProperties: false,
    properties: { data, error: { type: 'null' } },
  };
}

/**
 * The procedures' requirements combined: each procedure's list holds
 * alternatives, and every procedure of the chain must pass, so the result is
 * every combination of one alternative per procedure.
 */
function procedureSecurity(procedures: readonly Procedure[]): SecurityRequirement[] | undefined {
  let combined: SecurityRequirement[] | undefined;
  for (const procedure of procedures) {
    const alternatives = procedure.docs?.security;
    if (!alternatives) continue;
    combined = (combined ?? [{}]).flatMap((requirement) => alternatives.map((alternative) => ({ ...requirement, ...alternative })));
  }
  return combined;
}

function definedEntries(requirement: SecurityRequirement): SecurityRequirement {
  return Object.fromEntries(Object.entries(requirement).filter(([, scopes]) => scopes !== undefined));
}

function checkSchemes(security: readonly SecurityRequirement[], schemes: Record<string, unknown>, key: string): void {
  for (const requirement of security) {
    for (const name of Object.keys(requirement)) {
      if (!(name in schemes)) {
        const known = Object.keys(schemes);
        throw new Error(
          `OpenAPI: ${key} requires the security scheme "${name}", which .docs({ securitySchemes }) does not define` +
            (known.length > 0 ? ` (defined: ${known.join(', ')})` : ''),
        );
      }
    }
  }
}

/** `/api/v1/notes/:id` -> `/api/v1/notes/{id}`, and the parameter names in order. */
function openApiPath(route: string): { path: string; params: string[] } {
  const params: string[] = [];
  const path = route.replace(/:([A-Za-z_]\w*)/g, (_match, name: string) => {
    params.push(name);
    return `{${name}}`;
  });
  return { path, params };
}

/** A body schema that accepts no body at all makes the body optional. */
function acceptsUndefined(schema: StandardSchemaV1): boolean {
  const result = schema['~standard'].validate(undefined);
  return !isThenable(result) && result.issues === undefined;
}

function pascal(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((word) => word[0]!.toUpperCase() + word.slice(1))
    .join('');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
