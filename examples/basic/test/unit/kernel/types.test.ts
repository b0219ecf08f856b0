import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { pino } from 'pino';
import { Volt, type VoltLogger, type VoltResult } from '../../../src/volt/index.js';
import type { RequestCookies } from '../../../src/volt/cookies.js';
import type { RequestHeaders } from '../../../src/volt/headers.js';

// Type-level tests: `tsc -p templates` (and vitest's expectTypeOf) fail if inference regresses.
const volt = Volt.context(async (request) => ({ db: 'db' as const, ip: request.headers.get('x-forwarded-for') })).create();

const auth = volt.procedure({
  name: 'auth',
  handler: async (_options: { role: 'admin' | 'user' } | undefined, { request, response }) => {
    if (!request.headers.has('authorization')) return response.unauthorized();
    return { user: { id: 1, role: 'admin' as const } };
  },
});
const tracer = volt.procedure({ name: 'tracer', handler: () => ({ traceId: 'abc' }) });
const noop = volt.procedure({ name: 'noop', handler: () => undefined });

describe('type inference', () => {
  it('the context function result (awaited) is the handler context', () => {
    volt.query({
      path: '/',
      handler: ({ context }) => {
        expectTypeOf(context).toEqualTypeOf<{ db: 'db'; ip: string | null }>();
        return null;
      },
    });
  });

  it('body and query come from their Standard Schemas (output types, after coercion/defaults)', () => {
    volt.mutation({
      path: '/items',
      method: 'POST',
      body: z.object({ name: z.string(), tags: z.array(z.string()).default([]) }),
      query: z.object({ page: z.coerce.number() }),
      handler: ({ request }) => {
        expectTypeOf(request.body).toEqualTypeOf<{ name: string; tags: string[] }>();
        expectTypeOf(request.query).toEqualTypeOf<{ page: number }>();
        expectTypeOf(request.headers).toEqualTypeOf<RequestHeaders>();
        expectTypeOf(request.cookies).toEqualTypeOf<RequestCookies>();
        return null;
      },
    });
  });

  it('without schemas: query is a record of strings/arrays, body unknown', () => {
    volt.mutation({
      path: '/raw',
      method: 'PUT',
      handler: ({ request }) => {
        expectTypeOf(request.query).toEqualTypeOf<Record<string, string | string[] | undefined>>();
        expectTypeOf(request.body).toEqualTypeOf<unknown>();
        return null;
      },
    });
  });

  it('path params are named from the path', () => {
    volt.query({
      path: '/posts/:postId/comments/:commentId',
      handler: ({ request }) => {
        expectTypeOf(request.params.postId).toEqualTypeOf<string>();
        expectTypeOf(request.params.commentId).toEqualTypeOf<string>();
        return null;
      },
    });
  });

  it('procedures in `use` extend the context (called or not; "continue" adds nothing)', () => {
    volt.query({
      path: '/me',
      use: [auth({ role: 'admin' }), tracer, noop],
      handler: ({ context }) => {
        expectTypeOf(context.user).toEqualTypeOf<{ id: number; role: 'admin' }>();
        expectTypeOf(context.traceId).toEqualTypeOf<string>();
        expectTypeOf(context.db).toEqualTypeOf<'db'>();
        return null;
      },
    });
  });

  it('actions carry their result type; response methods chain', () => {
    const action = volt.query({ path: '/r', handler: ({ response }) => response.status(200).setHeader('x', '1').success({ n: 1 }) });
    expectTypeOf(action.$result).toEqualTypeOf<VoltResult<{ n: number }> | undefined>();
  });

  it('`output` types what the handler returns: the data, or a response built from it or an error', () => {
    const Note = z.object({ id: z.number(), text: z.string() });
    const get = volt.query({
      path: '/notes/:id',
      output: Note,
      handler: async ({ request, response }) => (request.params.id === '1' ? response.success({ id: 1, text: 'a' }) : response.notFound()),
    });
    expectTypeOf(get.$result).toEqualTypeOf<{ id: number; text: string } | undefined>();
    volt.mutation({ path: '/notes', method: 'POST', body: Note, output: Note, handler: ({ request, response }) => response.created(request.body) });
    volt.query({ path: '/plain', output: z.array(Note), handler: () => [{ id: 1, text: 'a' }] });
    volt.query({
      path: '/wrong',
      output: Note,
      // @ts-expect-error the data lacks `text`
      handler: ({ response }) => response.success({ id: 1 }),
    });
    volt.query({
      path: '/wrong-plain',
      output: z.array(Note),
      // @ts-expect-error a string is not a Note[]
      handler: async () => 'nope',
    });
  });

  it('procedures and actions take documentation without changing their types', () => {
    const guard = volt.procedure({
      name: 'guard',
      docs: (options) => ({ security: [{ bearerAuth: options ? [options.scope] : [] }], errors: ['UNAUTHORIZED'] }),
      handler: (_options: { scope: string } | undefined) => ({ scoped: true as const }),
    });
    volt.query({
      path: '/d/:id',
      use: [guard({ scope: 'read' })],
      docs: { summary: 'Read', params: { id: z.coerce.number() }, errors: ['NOT_FOUND', { code: 'GONE', status: 410 }], deprecated: true },
      handler: ({ context }) => {
        expectTypeOf(context.scoped).toEqualTypeOf<true>();
        return null;
      },
    });
  });

  it('a pino logger is a VoltLogger', () => {
    expectTypeOf(pino({ enabled: false })).toMatchTypeOf<VoltLogger>();
    Volt.context({})
      .logger(pino({ enabled: false }))
      .create();
  });
});
