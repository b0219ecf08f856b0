import { request, type IncomingMessage, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HeaderAddingResponse } from '../../src/scaling/http/header-adding-response.js';
import { createHealth } from '../../src/scaling/http/health.js';
import { withOperations } from '../../src/scaling/http/operations-listener.js';
import { serve, type Served } from '../support/serve.js';

// Shared constants, as libraries pass them: they must never be modified.
const FLAT = Object.freeze(['content-type', 'text/plain']) as unknown as string[];
const OBJECT = Object.freeze({ 'content-type': 'text/plain' });

// Every way a response can get its head written.
const ROUTES: Record<string, (res: ServerResponse) => void> = {
  '/flat': (res) => res.writeHead(200, FLAT).end('flat'),
  '/object': (res) => res.writeHead(200, OBJECT).end('object'),
  '/reason': (res) => res.writeHead(200, 'Fine', OBJECT).end('reason'),
  '/reason-only': (res) => res.writeHead(201, 'Made').end('reason only'),
  '/status-only': (res) => res.writeHead(202).end('status only'),
  '/implicit': (res) => res.end('implicit'),
  '/after-set-header': (res) => {
    res.setHeader('x-handler', 'yes');
    res.writeHead(200, ['content-type', 'text/plain']).end('after setHeader');
  },
  '/flushed': (res) => {
    res.setHeader('content-type', 'text/event-stream');
    res.flushHeaders();
    res.end('data: x\n\n');
  },
};

// A page with a policy of its own, set each way a writer can.
const OWN_POLICY = "default-src 'self'";
const OWN_POLICY_ROUTES: Record<string, (res: ServerResponse) => void> = {
  '/own/object': (res) => res.writeHead(200, { 'Content-Security-Policy': OWN_POLICY }).end('object'),
  '/own/flat': (res) => res.writeHead(200, ['content-security-policy', OWN_POLICY]).end('flat'),
  '/own/set-header': (res) => {
    res.setHeader('content-security-policy', OWN_POLICY);
    res.end('setHeader');
  },
};

function kernel(req: IncomingMessage, res: ServerResponse): void {
  (ROUTES[req.url!] ?? OWN_POLICY_ROUTES[req.url!])!(res);
}

let served: Served;
let port: number;
beforeAll(async () => {
  const ops = withOperations(kernel, { instanceId: 'headers-test', health: createHealth({ serviceId: 'h', version: '1' }), trustRequestId: true });
  served = await serve(ops.listener, { ServerResponse: HeaderAddingResponse });
  port = served.port;
});
afterAll(() => served.close());

function get(path: string, headers: Record<string, string> = {}) {
  return new Promise<{ res: IncomingMessage; body: string }>((resolve, reject) => {
    request({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ res, body }));
    })
      .on('error', reject)
      .end();
  });
}

const count = (res: IncomingMessage, name: string) => res.rawHeaders.filter((h, i) => i % 2 === 0 && h.toLowerCase() === name).length;

describe('HeaderAddingResponse', () => {
  it('adds the request and instance ids exactly once, whichever way the head is written', async () => {
    for (const path of Object.keys(ROUTES)) {
      const { res, body } = await get(path, { 'x-request-id': `id-${path.slice(1)}` });
      expect(res.headers['x-request-id'], path).toBe(`id-${path.slice(1)}`);
      expect(res.headers['x-instance-id'], path).toBe('headers-test');
      expect(count(res, 'x-request-id'), path).toBe(1);
      expect(count(res, 'x-instance-id'), path).toBe(1);
      expect(body.length, path).toBeGreaterThan(0);
    }
    const { res } = await get('/reason');
    expect(res.statusMessage).toBe('Fine');
    expect((await get('/after-set-header')).res.headers['x-handler']).toBe('yes');
    expect((await get('/reason-only')).res.statusCode).toBe(201);
  });

  it("adds nosniff, a Referrer-Policy and CSP frame-ancestors 'none' exactly once, whichever way the head is written", async () => {
    for (const path of Object.keys(ROUTES)) {
      const { res } = await get(path);
      expect(res.headers['x-content-type-options'], path).toBe('nosniff');
      expect(res.headers['referrer-policy'], path).toBe('no-referrer');
      expect(res.headers['content-security-policy'], path).toBe("frame-ancestors 'none'");
      for (const name of ['x-content-type-options', 'referrer-policy', 'content-security-policy']) expect(count(res, name), `${path} ${name}`).toBe(1);
    }
  });

  it('leaves a Content-Security-Policy the writer sets to the writer, once, and still adds the other headers', async () => {
    for (const path of Object.keys(OWN_POLICY_ROUTES)) {
      const { res } = await get(path);
      expect(res.headers['content-security-policy'], path).toBe(OWN_POLICY);
      expect(count(res, 'content-security-policy'), path).toBe(1);
      expect(res.headers['x-content-type-options'], path).toBe('nosniff');
      expect(res.headers['x-instance-id'], path).toBe('headers-test');
    }
  });

  it('leaves the header lists it is given untouched', () => {
    expect(FLAT).toEqual(['content-type', 'text/plain']);
    expect(OBJECT).toEqual({ 'content-type': 'text/plain' });
  });
});
