import { validate } from '@readme/openapi-parser';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { buildOpenApiDocument, type DocsConfig, type OpenApiDocument, type StandardSchemaV1, type VoltController, Volt } from '../../src/volt/index.js';

const volt = Volt.context({}).create();

function build(controllers: VoltController[], docs: DocsConfig = {}, options: { baseURL?: string; realtime?: boolean } = {}) {
  return buildOpenApiDocument({ controllers, basePATH: '/api/v1', baseURL: options.baseURL, docs, realtime: options.realtime ? { errors: [] } : null });
}

async function expectValid(document: OpenApiDocument): Promise<void> {
  const result = await validate(structuredClone(document) as never);
  expect(result.valid ? [] : result.errors).toEqual([]);
}

const Item = z.object({ id: z.number().int(), name: z.string() }).meta({ id: 'Item' });

// Each document is checked by an OpenAPI validator, which compiles the 3.1 schema first.
describe('buildOpenApiDocument', { timeout: 60_000 }, () => {
  it('documents paths, path and query parameters, bodies and the { data, error } envelope', async () => {
    const items = volt.controller({
      name: 'items',
      path: '/items',
      description: 'Things',
      actions: {
        search: volt.query({
          path: '/',
          query: z.object({ q: z.string().describe('Text to look for'), limit: z.coerce.number().int().max(100).default(10) }),
          description: 'Search items',
          output: z.array(Item),
          handler: () => [],
        }),
        rename: volt.mutation({
          path: '/:id/name/:locale',
          method: 'PUT',
          body: z.object({ name: z.string().min(1) }),
          output: Item,
          handler: ({ request }) => ({ id: 1, name: request.body.name }),
        }),
      },
    });
    const { document, warnings } = build([items]);
    expect(warnings).toEqual([]);
    expect(document.tags).toEqual([{ name: 'items', description: 'Things' }]);

    const search = document.paths['/api/v1/items']!.get!;
    expect(search).toMatchObject({ operationId: 'items.search', summary: 'Search items', tags: ['items'] });
    expect(search.parameters).toEqual([
      { name: 'q', in: 'query', required: true, description: 'Text to look for', schema: { type: 'string', description: 'Text to look for' } },
      { name: 'limit', in: 'query', required: false, schema: expect.objectContaining({ type: 'integer', maximum: 100, default: 10 }) },
    ]);
    expect(search.responses['200']!.content!['application/json']!.schema).toEqual({
      type: 'object',
      required: ['data', 'error'],
      additionalProperties: false,
      properties: { data: { $ref: '#/components/schemas/ItemsSearchOutput' }, error: { type: 'null' } },
    });
    expect(document.components.schemas.ItemsSearchOutput).toEqual({ type: 'array', items: { $ref: '#/components/schemas/Item' } });
    expect(Object.keys(search.responses)).toEqual(['200', '400', '500']);

    const rename = document.paths['/api/v1/items/{id}/name/{locale}']!.put!;
    expect(rename.parameters!.map((param) => [param.name, param.in, param.required, param.schema])).toEqual([
      ['id', 'path', true, { type: 'string' }],
      ['locale', 'path', true, { type: 'string' }],
    ]);
    expect(rename.requestBody).toEqual({ required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/ItemsRenameBody' } } } });
    // The model named by `.meta({ id })` is one component, shared by both actions.
    expect(rename.responses['200']!.content!['application/json']!.schema!.properties).toMatchObject({ data: { $ref: '#/components/schemas/Item' } });
    await expectValid(document);
  });

  it('lists, per status, the errors the kernel answers and those the action and its procedures declare', () => {
    const auth = volt.procedure({ name: 'auth', docs: { errors: ['UNAUTHORIZED'] }, handler: () => undefined });
    const things = volt.controller({
      name: 'things',
      path: '/things',
      actions: {
        get: volt.query({
          path: '/:id',
          use: [auth],
          output: Item,
          docs: { errors: ['NOT_FOUND', { code: 'GONE', status: 410, description: 'Deleted.' }] },
          handler: () => ({ id: 1, name: '' }),
        }),
        create: volt.mutation({
          path: '/',
          method: 'POST',
          body: z.object({ name: z.string() }),
          output: Item,
          docs: { status: 201, errors: ['CONFLICT'] },
          handler: () => ({ id: 1, name: '' }),
        }),
        remove: volt.mutation({ path: '/:id', method: 'DELETE', docs: { status: 204 }, handler: ({ response }) => response.noContent() }),
      },
    });
    const { document, warnings } = build([things]);
    expect(warnings).toEqual([]);
    const codes = (status: string, operation = document.paths['/api/v1/things/{id}']!.get!) => {
      const schema = operation.responses[status]!.content!['application/json']!.schema!;
      const refs = (schema.oneOf as { $ref: string }[] | undefined) ?? [schema as { $ref: string }];
      return refs.map((ref) => (document.components.schemas[ref.$ref.split('/').pop()!]!.properties as any).error.properties.code.const);
    };
    expect(Object.keys(document.paths['/api/v1/things/{id}']!.get!.responses)).toEqual(['200', '400', '401', '404', '410', '500']);
    expect(codes('400')).toEqual(['BAD_REQUEST']);
    expect(codes('401')).toEqual(['UNAUTHORIZED']);
    expect(codes('410')).toEqual(['GONE']);
    expect(document.paths['/api/v1/things/{id}']!.get!.responses['410']!.description).toBe('`GONE`: Deleted.');

    const create = document.paths['/api/v1/things']!.post!;
    expect(Object.keys(create.responses)).toEqual(['201', '400', '409', '413', '415', '500']);
    expect(codes('400', create)).toEqual(['INVALID_JSON', 'VALIDATION_ERROR']);
    const validation = document.components.schemas.ValidationError!.properties as any;
    expect(validation.error.properties.details).toEqual({ type: 'array', items: { $ref: '#/components/schemas/ValidationDetail' } });

    const remove = document.paths['/api/v1/things/{id}']!.delete!;
    expect(remove.responses['204']).toEqual({ description: 'No content.' });
  });

  it('takes security from the procedures in `use`: alternatives within one, all of them across several', async () => {
    const schemes: DocsConfig['securitySchemes'] = {
      bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
      apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' },
      tenant: { type: 'apiKey', in: 'header', name: 'x-tenant' },
    };
    const auth = volt.procedure({
      name: 'auth',
      // Optional credentials: a bearer token, or none at all (`{}`).
      docs: (options) => ({ security: options?.optional ? [{ bearerAuth: [] }, {}] : [{ bearerAuth: [] }, { apiKey: [] }], errors: ['UNAUTHORIZED'] }),
      handler: (_options: { optional?: boolean } | undefined) => undefined,
    });
    const tenant = volt.procedure({
      name: 'tenant',
      docs: { security: [{ tenant: [] }], parameters: [{ name: 'x-tenant', in: 'header', required: true, schema: { type: 'string' } }] },
      handler: () => undefined,
    });
    const controller = volt.controller({
      name: 'secure',
      path: '/secure',
      actions: {
        both: volt.query({ path: '/both', use: [auth(), tenant], output: z.null(), handler: () => null }),
        optional: volt.query({ path: '/optional', use: [auth({ optional: true })], output: z.null(), handler: () => null }),
        uncalled: volt.query({ path: '/uncalled', use: [auth], output: z.null(), handler: () => null }),
        public: volt.query({ path: '/public', use: [auth()], output: z.null(), docs: { security: [] }, handler: () => null }),
        open: volt.query({ path: '/open', output: z.null(), handler: () => null }),
      },
    });
    const { document } = build([controller], { securitySchemes: schemes });
    const security = (path: string) => document.paths[`/api/v1/secure/${path}`]!.get!.security;
    expect(security('both')).toEqual([
      { bearerAuth: [], tenant: [] },
      { apiKey: [], tenant: [] },
    ]);
    expect(security('optional')).toEqual([{ bearerAuth: [] }, {}]);
    expect(security('uncalled')).toEqual([{ bearerAuth: [] }, { apiKey: [] }]);
    expect(security('public')).toEqual([]);
    expect(security('open')).toBeUndefined();
    // Parameters a procedure reads are the operation's too.
    expect(document.paths['/api/v1/secure/both']!.get!.parameters).toEqual([{ name: 'x-tenant', in: 'header', required: true, schema: { type: 'string' } }]);
    expect(document.paths['/api/v1/secure/optional']!.get!.parameters).toBeUndefined();
    expect(document.components.securitySchemes).toEqual(schemes);
    await expectValid(document);
  });

  it('refuses a security scheme that .docs() does not define, naming the action', () => {
    const auth = volt.procedure({ name: 'auth', docs: { security: [{ bearerAuth: [] }] }, handler: () => undefined });
    const controller = volt.controller({ name: 'me', path: '/me', actions: { get: volt.query({ path: '/', use: [auth], handler: () => null }) } });
    expect(() => build([controller], { securitySchemes: { apiKey: { type: 'apiKey', in: 'header', name: 'k' } } })).toThrow(
      'OpenAPI: me.get requires the security scheme "bearerAuth", which .docs({ securitySchemes }) does not define (defined: apiKey)',
    );
  });

  it('documents what it cannot describe as any value, with a warning, and leaves hidden actions out', async () => {
    // A Standard Schema with no JSON Schema of its own.
    const bare: StandardSchemaV1<{ name: string }> = {
      '~standard': { version: 1, vendor: 'handmade', validate: (value) => ({ value: value as { name: string } }) },
    };
    const controller = volt.controller({
      name: 'odd',
      path: '/odd',
      actions: {
        bare: volt.mutation({ path: '/bare', method: 'POST', body: bare, output: z.object({ at: z.date() }), handler: () => ({ at: new Date() }) }),
        untyped: volt.query({ path: '/untyped', handler: () => 1 }),
        secret: volt.query({ path: '/secret', docs: { hidden: true }, handler: () => 1 }),
        params: volt.query({ path: '/:id', output: z.null(), docs: { params: { slug: z.string() } }, handler: () => null }),
      },
    });
    const { document, warnings } = build([controller]);
    expect(warnings).toEqual([
      'odd.bare output: zod could not describe the schema as JSON Schema (Date cannot be represented in JSON Schema); documented as any value',
      'odd.bare body: this handmade schema has no JSON Schema (Standard JSON Schema); documented as any value',
      'odd.untyped: no `output` schema; its response data is documented as any value',
      'odd.params: docs.params.slug is not a parameter of its path',
    ]);
    expect(document.paths['/api/v1/odd/secret']).toBeUndefined();
    // A body schema that accepts no body makes it optional.
    expect(document.paths['/api/v1/odd/bare']!.post!.requestBody!.required).toBe(false);
    await expectValid(document);
  });

  it('moves definitions into components: a recursive schema refers to its component, a clashing name gets another', async () => {
    interface Node {
      name: string;
      children: Node[];
    }
    const Tree: z.ZodType<Node> = z.object({
      name: z.string(),
      get children() {
        return z.array(Tree);
      },
    });
    const OtherItem = z.object({ sku: z.string() }).meta({ id: 'Item' });
    const controller = volt.controller({
      name: 'shapes',
      path: '/shapes',
      actions: {
        tree: volt.query({ path: '/tree', output: Tree, handler: () => ({ name: 'root', children: [] }) }),
        item: volt.query({ path: '/item', output: Item, handler: () => ({ id: 1, name: 'a' }) }),
        other: volt.query({ path: '/other', output: OtherItem, handler: () => ({ sku: 'x' }) }),
        input: volt.mutation({ path: '/item', method: 'POST', body: Item, output: Item, handler: ({ request }) => request.body }),
      },
    });
    const { document } = build([controller]);
    const tree = document.components.schemas.ShapesTreeOutput as any;
    expect(tree.properties.children.items).toEqual({ $ref: '#/components/schemas/ShapesTreeOutput' });
    expect(document.components.schemas.Item).toMatchObject({ properties: { id: { type: 'integer' } } });
    expect(document.components.schemas.Item2).toMatchObject({ properties: { sku: { type: 'string' } } });
    // The request side of `Item` differs (no additionalProperties: false): a component of its own.
    expect(document.paths['/api/v1/shapes/item']!.post!.requestBody!.content['application/json']!.schema).toEqual({ $ref: '#/components/schemas/ItemInput' });
    expect(JSON.stringify(document)).not.toContain('$defs');
    await expectValid(document);
  });

  it('keeps a given document as the base, replaces its paths and schemas, and takes servers from baseURL', () => {
    const controller = volt.controller({ name: 'a', path: '/a', actions: { get: volt.query({ path: '/', output: z.null(), handler: () => null }) } });
    const openapi = {
      openapi: '3.0.0',
      externalDocs: { url: 'https://example.com/guide' },
      paths: { '/stale': {} },
      components: { schemas: { Old: {} }, examples: { one: {} } },
    };
    const { document } = build([controller], { openapi, info: { title: 'Shop', version: '2.0.0' } }, { baseURL: 'https://api.example.com' });
    expect(document.openapi).toBe('3.1.0');
    expect(document.externalDocs).toEqual({ url: 'https://example.com/guide' });
    expect(Object.keys(document.paths)).toEqual(['/api/v1/a']);
    expect(document.components.schemas.Old).toBeUndefined();
    expect(document.components.examples).toEqual({ one: {} });
    expect(document.info).toEqual({ title: 'Shop', version: '2.0.0' });
    expect(document.servers).toEqual([{ url: 'https://api.example.com' }]);
    expect(build([controller], { servers: [{ url: '/' }] }, { baseURL: 'https://api.example.com' }).document.servers).toEqual([{ url: '/' }]);
  });

  it('documents the realtime endpoint when the router serves one', async () => {
    const { document } = buildOpenApiDocument({
      controllers: [],
      basePATH: '/api/v1',
      docs: {},
      realtime: { errors: [{ code: 'UNKNOWN_CHANNEL', status: 400 }] },
    });
    const events = document.paths['/api/v1/sse/events']!.get!;
    expect(events.responses['200']!.content).toEqual({ 'text/event-stream': { schema: { type: 'string' } } });
    expect(events.parameters!.map((param) => `${param.in}:${param.name}`)).toEqual(['query:channels', 'query:lastEventId', 'header:Last-Event-ID']);
    expect(Object.keys(events.responses)).toEqual(['200', '400', '500']);
    expect(events.security).toBeUndefined();
    await expectValid(document);
  });

  it("documents what the realtime route's procedures add: their security, errors and parameters", async () => {
    const signedIn = volt.procedure({
      name: 'auth',
      docs: {
        security: [{ bearerAuth: [] }, {}],
        errors: ['UNAUTHORIZED'],
        parameters: [{ name: 'ticket', in: 'query', required: false, schema: { type: 'string' } }],
      },
      handler: () => undefined,
    });
    const { document } = buildOpenApiDocument({
      controllers: [],
      basePATH: '/api/v1',
      docs: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } } },
      realtime: { errors: [], procedures: [signedIn] },
    });
    const events = document.paths['/api/v1/sse/events']!.get!;
    expect(events.security).toEqual([{ bearerAuth: [] }, {}]);
    expect(events.parameters!.map((param) => `${param.in}:${param.name}`)).toContain('query:ticket');
    expect(Object.keys(events.responses)).toEqual(['200', '401', '500']);
    await expectValid(document);
    // A scheme the document does not define is a mistake at start, as for actions.
    expect(() => buildOpenApiDocument({ controllers: [], basePATH: '/api/v1', docs: {}, realtime: { errors: [], procedures: [signedIn] } })).toThrow(
      /realtime\.events requires the security scheme "bearerAuth"/,
    );
  });
});
