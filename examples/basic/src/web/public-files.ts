/**
 * Serves the files of `public/` (the realtime demo page) at `/`. They are read
 * once at start-up: the set is tiny and fixed, so every request is a map lookup
 * and no file system call happens on the request path. Anything that is not a
 * public file goes on to the API.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CONTENT_SECURITY_POLICY, setContentSecurityPolicy } from '../scaling/http/security-headers.js';

type NodeListener = (req: IncomingMessage, res: ServerResponse) => void;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.png': 'image/png',
};

interface PublicFile {
  body: Buffer;
  headers: Record<string, string | number>;
  etag: string;
  /** Pages get the page policy; scripts and styles keep the API's (they render nothing). */
  page: boolean;
}

/** `public/` next to `src/` and `dist/`, whichever this module runs from. */
export const PUBLIC_DIR = new URL('../../public/', import.meta.url);

export function loadPublicFiles(directory: URL | string = PUBLIC_DIR): Map<string, PublicFile> {
  const files = new Map<string, PublicFile>();
  const root = directory instanceof URL ? fileURLToPath(directory) : directory;
  for (const name of readdirSync(root)) {
    const type = CONTENT_TYPES[extname(name)];
    if (!type) continue;
    const body = readFileSync(join(root, name));
    const etag = `"${createHash('sha1').update(body).digest('base64url')}"`;
    const file = {
      body,
      etag,
      page: type.startsWith('text/html'),
      // `no-cache` = revalidate each time: cheap with the ETag, and a redeploy shows at once.
      headers: { 'content-type': type, 'content-length': body.length, etag, 'cache-control': 'no-cache' },
    };
    files.set(`/${name}`, file);
    if (name === 'index.html') files.set('/', file);
  }
  return files;
}

export function withPublicFiles(next: NodeListener, files: Map<string, PublicFile>): NodeListener {
  if (files.size === 0) return next;
  const notModifiedHeaders = (file: PublicFile) => ({ etag: file.etag, 'cache-control': 'no-cache' });
  // Life of a request, step 4.
  return function publicFilesListener(req, res) {
    const method = req.method;
    const file = method === 'GET' || method === 'HEAD' ? files.get(pathOf(req.url ?? '')) : undefined;
    if (!file) return next(req, res);
    if (file.page) setContentSecurityPolicy(res, CONTENT_SECURITY_POLICY.page);
    if (req.headers['if-none-match'] === file.etag) {
      res.writeHead(304, notModifiedHeaders(file));
      res.end();
      return;
    }
    res.writeHead(200, file.headers);
    res.end(method === 'HEAD' ? undefined : file.body);
  };
}

/** The path without its query string: `/?v=2` is still the page. */
function pathOf(url: string): string {
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}
