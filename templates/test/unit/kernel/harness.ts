import { request as httpRequest, type IncomingMessage } from 'node:http';
import { connect } from 'node:net';

export { serve, type Served } from '../../support/serve.js';

export async function getJson(url: string, init?: RequestInit): Promise<{ status: number; headers: Headers; body: any; text: string }> {
  const res = await fetch(url, init);
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  return { status: res.status, headers: res.headers, body, text };
}

export function postJson(url: string, payload: unknown, method = 'POST') {
  return getJson(url, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload) });
}

/** Sends raw bytes on a fresh TCP connection and resolves with everything the server sent back. */
export function rawExchange(port: number, bytes: string | Buffer, { timeoutMs = 3000 } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(Buffer.concat(chunks).toString('latin1'));
    }, timeoutMs);
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', (error) => {
      clearTimeout(timer);
      if (chunks.length > 0) resolve(Buffer.concat(chunks).toString('latin1'));
      else reject(error);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('latin1'));
    });
    socket.write(bytes);
  });
}

/**
 * Streams `total` bytes of body at a client-chosen pace and stops as soon as
 * the response arrives; resolves with the status, the response headers and
 * how many body bytes had been written by then.
 */
export function uploadUntilAnswered(
  port: number,
  path: string,
  total: number,
  { chunked = false, contentType = 'application/json' } = {},
): Promise<{ status: number; headers: IncomingMessage['headers']; body: string; bytesSent: number }> {
  return new Promise((resolve, reject) => {
    let bytesSent = 0;
    let answered = false;
    const headers: Record<string, string | number> = { 'content-type': contentType };
    if (!chunked) headers['content-length'] = total;
    const req = httpRequest({ host: '127.0.0.1', port, path, method: 'POST', headers, agent: false }, (res) => {
      answered = true;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body, bytesSent }));
      res.on('error', () => resolve({ status: res.statusCode!, headers: res.headers, body, bytesSent }));
    });
    req.on('error', (error) => {
      if (!answered) reject(error);
    });
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const pump = () => {
      if (answered || req.destroyed) return;
      if (bytesSent >= total) {
        req.end();
        return;
      }
      const piece = chunk.subarray(0, Math.min(chunk.length, total - bytesSent));
      bytesSent += piece.length;
      // A small pause per chunk gives the server time to answer mid-upload.
      if (req.write(piece)) setTimeout(pump, 2);
      else req.once('drain', () => setTimeout(pump, 2));
    };
    pump();
  });
}
