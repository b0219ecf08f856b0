import { request, type IncomingMessage, type ServerResponse } from 'node:http';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCompressor } from '../../src/scaling/http/compression.js';
import { createHealth } from '../../src/scaling/http/health.js';
import { withOperations } from '../../src/scaling/http/operations-listener.js';
import { serve, type Served } from '../support/serve.js';

/*
 * A stand-in for the kernel's send path: serialize, then offer the body to the
 * compressor hook, as the kernel does for every buffered response.
 */
const compress = createCompressor({ thresholdBytes: 1024 });
function json(size: number): Buffer {
  const items = [];
  for (let i = 0; JSON.stringify(items).length < size; i++) items.push({ id: i, name: `item-${i}`, tags: ['a', 'b'] });
  return Buffer.from(JSON.stringify({ data: items, error: null }));
}
const SMALL = json(200);
const LARGE = json(20_000);

function kernel(req: IncomingMessage, res: ServerResponse): void {
  if (req.url === '/sse') {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    // Even a large event offered to the hook is declined for an event stream.
    const big = Buffer.from(`data: ${'x'.repeat(4000)}\n\n`);
    let n = 0;
    const timer = setInterval(() => {
      n++;
      if (!compress.compress(req, res, big)) res.write(`id: ${n}\ndata: event ${n}\n\n`);
      if (n === 4) {
        clearInterval(timer);
        res.end();
      }
    }, 60);
    return;
  }
  const body = req.url === '/large' ? LARGE : SMALL;
  res.statusCode = 200;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('content-length', body.length);
  if (!compress.compress(req, res, body)) res.end(body);
}

let served: Served;
let port: number;
beforeAll(async () => {
  const ops = withOperations(kernel, { instanceId: 'compression-test', health: createHealth({ serviceId: 'x', version: '0' }) });
  served = await serve(ops.listener);
  port = served.port;
});
afterAll(() => served.close());

interface Received {
  res: IncomingMessage;
  raw: Buffer;
  chunks: Array<{ at: number; text: string }>;
}
function get(path: string, acceptEncoding?: string): Promise<Received> {
  return new Promise((resolve, reject) => {
    const headers = acceptEncoding === undefined ? {} : { 'accept-encoding': acceptEncoding };
    request({ host: '127.0.0.1', port, path, headers }, (res) => {
      const parts: Buffer[] = [];
      const chunks: Received['chunks'] = [];
      res.on('data', (chunk: Buffer) => {
        parts.push(chunk);
        chunks.push({ at: performance.now(), text: chunk.toString('latin1') });
      });
      res.on('end', () => resolve({ res, raw: Buffer.concat(parts), chunks }));
      res.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}

describe('compression at send time', () => {
  it('leaves a response under the threshold alone, whatever the client accepts', async () => {
    const { res, raw } = await get('/small', 'gzip, deflate, br');
    expect(res.headers['content-encoding']).toBeUndefined();
    expect(Number(res.headers['content-length'])).toBe(SMALL.length);
    expect(raw.equals(SMALL)).toBe(true);
  });

  it('gzips a large response for a gzip client, and the bytes decompress to the original', async () => {
    const { res, raw } = await get('/large', 'gzip');
    expect(res.headers['content-encoding']).toBe('gzip');
    expect(res.headers.vary).toMatch(/accept-encoding/i);
    expect(res.headers['content-length']).toBeUndefined();
    expect(res.headers['x-instance-id']).toBe('compression-test');
    expect(raw.length).toBeLessThan(LARGE.length / 3);
    expect(gunzipSync(raw).equals(LARGE)).toBe(true);
  });

  it('uses br when the client prefers it', async () => {
    const { res, raw } = await get('/large', 'br');
    expect(res.headers['content-encoding']).toBe('br');
    expect(brotliDecompressSync(raw).equals(LARGE)).toBe(true);
  });

  it('sends identity to a client that accepts no compression', async () => {
    for (const accept of [undefined, 'identity', 'gzip;q=0, br;q=0']) {
      const { res, raw } = await get('/large', accept);
      expect(res.headers['content-encoding'], String(accept)).toBeUndefined();
      expect(raw.equals(LARGE)).toBe(true);
    }
  });

  it('never compresses an event stream: events arrive one by one, as sent', async () => {
    const start = performance.now();
    const { res, raw, chunks } = await get('/sse', 'gzip, br');
    expect(res.headers['content-type']).toBe('text/event-stream');
    expect(res.headers['content-encoding']).toBeUndefined();
    expect(raw.toString()).toBe([1, 2, 3, 4].map((n) => `id: ${n}\ndata: event ${n}\n\n`).join(''));
    // Four separate deliveries spread over the ~240 ms the stream lasts.
    const eventChunks = chunks.filter((c) => c.text.includes('data: event'));
    expect(eventChunks).toHaveLength(4);
    expect(eventChunks[0]!.at - start).toBeLessThan(eventChunks[3]!.at - start - 100);
  });
});
