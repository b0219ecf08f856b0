import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { errorEnvelope } from '../errors.js';
import { joinPath } from '../kernel.js';
import type { VoltLogger } from '../logger.js';
import { JSON_CONTENT_TYPE } from '../send.js';
import { docsContentSecurityPolicy } from './csp.js';
import { findScalarBundle, SCALAR_BUNDLE } from './scalar-bundle.js';
import type { DocsConfig, OpenApiDocument } from './types.js';

const gzipAsync = promisify(gzip);

export const DEFAULT_DOCS_ROUTE = '/docs';
/** Bodies below this go out as they are. */
const GZIP_MIN_BYTES = 1024;

interface Asset {
  body: Buffer;
  gzipped: Buffer | null;
  etag: string;
  headers: Record<string, string>;
}

export interface DocsServerOptions {
  basePATH: string;
  docs: DocsConfig;
  /** The router's document (built once). */
  document: () => OpenApiDocument;
  logger: VoltLogger;
  /** Where Scalar's browser bundle is (undefined: not installed). @default findScalarBundle */
  findBundle?: () => string | undefined;
}

export interface DocsServer {
  /** `{basePATH}/openapi.json`. */
  readonly documentPath: string;
  /** The reference page (`/docs`). */
  readonly route: string;
  /** Answers a docs request (GET or HEAD); false when the path is not one of them. */
  serve(req: IncomingMessage, res: ServerResponse, path: string): boolean;
}

/**
 * Serves the document as JSON at `{basePATH}/openapi.json` and Scalar's API
 * reference at the playground route, from the installed package's browser
 * bundle (no CDN). Every body is made once, on its first request, and kept;
 * later requests are a map lookup and one write.
 */
export function createDocsServer(options: DocsServerOptions): DocsServer {
  const { docs, logger } = options;
  const route = joinPath(docs.playground?.route ?? DEFAULT_DOCS_ROUTE);
  const documentPath = joinPath(options.basePATH, 'openapi.json');
  const bundlePath = (options.findBundle ?? findScalarBundle)();
  if (bundlePath === undefined) {
    throw new Error(
      `The API reference at ${route} needs @scalar/api-reference (node_modules/${SCALAR_BUNDLE} was not found): ` +
        'install the project with its dev dependencies, or disable the playground.',
    );
  }
  const security = docs.playground?.security;
  const title = `${docs.info?.title ?? options.document().info.title}: API reference`;

  const assets = new Map<string, () => Promise<Asset>>();
  const page = once(() =>
    asset(pageHtml(title, route, documentPath), 'text/html; charset=utf-8', { 'content-security-policy': docsContentSecurityPolicy(docs.servers) }),
  );
  assets.set(route, page);
  assets.set(`${route}/`, page);
  assets.set(
    `${route}/init.js`,
    once(() => asset(INIT_SCRIPT, 'text/javascript; charset=utf-8')),
  );
  assets.set(
    `${route}/scalar.js`,
    once(async () => asset(await readFile(bundlePath), 'text/javascript; charset=utf-8')),
  );
  assets.set(
    documentPath,
    once(() => asset(JSON.stringify(options.document()), JSON_CONTENT_TYPE)),
  );

  async function respond(req: IncomingMessage, res: ServerResponse, load: () => Promise<Asset>): Promise<void> {
    try {
      if (security && !(await allowed(req, res))) return;
      const file = await load();
      if (req.headers['if-none-match'] === file.etag) {
        res.writeHead(304, { etag: file.etag, 'cache-control': 'no-cache' });
        res.end();
        return;
      }
      // The Fetch handler's response sink hands bodies over as they are: no encoding there.
      const zipped = file.gzipped !== null && acceptsGzip(req) && (res as { isFetchSink?: boolean }).isFetchSink !== true;
      const body = zipped ? file.gzipped! : file.body;
      res.writeHead(200, {
        ...file.headers,
        'content-length': String(body.length),
        ...(zipped ? { 'content-encoding': 'gzip' } : {}),
      });
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch (error) {
      logger.error({ err: error, url: req.url }, 'API docs: could not answer');
      if (res.headersSent) res.destroy();
      else sendError(res, 500, 'INTERNAL_SERVER_ERROR', 'Internal server error');
    }
  }

  /** `playground.security`, as in Volt.js: false answers 403, a throw 401. */
  async function allowed(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    let granted: boolean;
    try {
      granted = await security!(toFetchRequest(req));
    } catch {
      sendError(res, 401, 'UNAUTHORIZED', 'The API reference needs credentials');
      return false;
    }
    if (!granted) sendError(res, 403, 'FORBIDDEN', 'The API reference is not available to this request');
    return granted;
  }

  return {
    documentPath,
    route,
    serve(req, res, path) {
      if (req.method !== 'GET' && req.method !== 'HEAD') return false;
      const load = assets.get(path);
      if (load === undefined) return false;
      void respond(req, res, load);
      return true;
    },
  };
}

/**
 * The page only loads scripts of this origin; the settings travel as JSON data,
 * not code. (Not `#api-reference`: the bundle mounts itself on that id with its
 * default settings.)
 */
const INIT_SCRIPT = `// Starts Scalar's API reference with the settings the page carries as JSON.
Scalar.createApiReference('#reference', JSON.parse(document.getElementById('reference-settings').textContent));
`;

function pageHtml(title: string, route: string, documentPath: string): string {
  const settings = {
    url: documentPath,
    // Fonts, telemetry, the AI agent and the developer toolbar would reach out to scalar.com.
    withDefaultFonts: false,
    telemetry: false,
    agent: { disabled: true },
    showDeveloperTools: 'never',
  };
  // `<` escaped: the JSON cannot close the script element it sits in.
  const json = JSON.stringify(settings).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${escapeHtml(title)}</title>
</head>
<body>
  <div id="reference"></div>
  <script id="reference-settings" type="application/json">${json}</script>
  <script src="${escapeHtml(route)}/scalar.js"></script>
  <script src="${escapeHtml(route)}/init.js"></script>
</body>
</html>
`;
}

async function asset(content: string | Buffer, contentType: string, extra: Record<string, string> = {}): Promise<Asset> {
  const body = typeof content === 'string' ? Buffer.from(content) : content;
  const etag = `"${createHash('sha1').update(body).digest('base64url')}"`;
  return {
    body,
    gzipped: body.length >= GZIP_MIN_BYTES ? await gzipAsync(body) : null,
    etag,
    headers: {
      'content-type': contentType,
      etag,
      // Revalidated each time (cheap with the ETag), so a redeploy shows at once.
      'cache-control': 'no-cache',
      vary: 'accept-encoding',
      'x-content-type-options': 'nosniff',
      ...extra,
    },
  };
}

/** Runs `make` on first use only; a failure is retried on the next request. */
function once<T>(make: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    if (pending === undefined) {
      pending = make();
      pending.catch(() => {
        pending = undefined;
      });
    }
    return pending;
  };
}

function acceptsGzip(req: IncomingMessage): boolean {
  const accepted = req.headers['accept-encoding'];
  return typeof accepted === 'string' && /\bgzip\b/i.test(accepted);
}

function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  const body = errorEnvelope({ code, message });
  res.writeHead(status, { 'content-type': JSON_CONTENT_TYPE, 'content-length': String(Buffer.byteLength(body)), 'cache-control': 'no-store' });
  res.end(body);
}

/** The request as Volt.js's `playground.security` receives it: a Fetch `Request`. */
function toFetchRequest(req: IncomingMessage): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    try {
      headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    } catch {
      // A header Fetch refuses (e.g. non-ASCII) is left out.
    }
  }
  let url: URL;
  try {
    url = new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`);
  } catch {
    url = new URL(req.url ?? '/', 'http://localhost');
  }
  return new Request(url, { method: req.method, headers });
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}
