import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import type { Registry } from 'prom-client';
import { sendHealthReport, type Health } from './health.js';

/** Write the registry in the Prometheus text format. */
export async function sendMetrics(registry: Registry, res: ServerResponse): Promise<void> {
  try {
    const text = await registry.metrics();
    res.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' });
    res.end(text);
  } catch {
    // A collector threw: its message is internal, and Prometheus only needs the status.
    res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('metrics collection failed\n');
  }
}

/** `Bearer <token>`; the scheme is case-insensitive (RFC 9110), spaces before the token are not. */
const BEARER = /^bearer +(\S+)$/i;

/**
 * `Authorization: Bearer <token>` check for `/metrics` and the detailed
 * `/health` on the public port, compared in constant time so the token cannot
 * be guessed byte by byte.
 */
export function bearerTokenMatches(req: IncomingMessage, token: string): boolean {
  const header = req.headers.authorization;
  const match = typeof header === 'string' ? BEARER.exec(header) : null;
  if (!match) return false;
  const given = Buffer.from(match[1]!);
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export interface MetricsServerOptions {
  registry: Registry;
  /** Served in full at `/health` (the public port gives only the status). */
  health: Health;
  port: number;
  /** `METRICS_HOST`: loopback unless the deployment names its private interface. */
  host: string;
}

/**
 * The private operations port: `/metrics` for Prometheus and the detailed
 * `/health` for whoever runs the instances. The public reverse proxy only
 * forwards the API port, and this one listens on loopback unless told
 * otherwise, so neither leaks.
 */
export function startMetricsServer(options: MetricsServerOptions): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (req.method === 'GET' || req.method === 'HEAD') {
      if (path === '/metrics') return void sendMetrics(options.registry, res);
      if (path === '/health') return void sendHealthReport(options.health, res);
    }
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('not found: this port serves /metrics and /health\n');
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
