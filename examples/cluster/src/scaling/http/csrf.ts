/**
 * Cross-site request forgery: a page on another site can make the browser
 * send a form POST here, with this site's cookies. So a write (POST, PUT,
 * PATCH, DELETE) that comes from another site is refused with 403 when it
 * carries cookies (it would act as the signed-in user) or a body a plain
 * HTML form or a no-cors fetch can send (urlencoded, multipart, text/plain).
 * A cross-site JSON write without cookies passes: browsers preflight it, and
 * it could only act as nobody.
 *
 * Where a request comes from, as browsers report it:
 * - `Sec-Fetch-Site` (every current browser): `same-origin` and `none` (typed
 *   in the address bar) are this site; `same-site` and `cross-site` are not;
 * - else `Origin`, compared with the `Host` the request was sent to;
 * - neither header: not a browser request (curl, another server), which
 *   cannot carry a victim's cookies.
 * Origins in CSRF_TRUSTED_ORIGINS are always allowed (an identity provider
 * posting its answer back, a front end on another domain).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { JSON_CONTENT_TYPE, errorEnvelope } from '../../volt/index.js';

type NodeListener = (req: IncomingMessage, res: ServerResponse) => void;

export interface CsrfOptions {
  /** Full origins (`https://id.example.com`) allowed to write as if they were this site. */
  trustedOrigins: readonly string[];
}

const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);
/** What an HTML form (or a no-cors fetch) can send without a preflight. */
const FORM_TYPES = /^\s*(application\/x-www-form-urlencoded|multipart\/form-data|text\/plain)\s*(;|$)/i;

const REFUSAL = Buffer.from(
  errorEnvelope({ code: 'CROSS_SITE_REQUEST', message: 'Cross-site writes with cookies or form bodies are refused; send the request from this site' }),
);

export function withCsrfProtection(next: NodeListener, options: CsrfOptions): NodeListener {
  const trusted = new Set(options.trustedOrigins);
  return function csrfListener(req, res) {
    if (SAFE_METHODS.has(req.method!) || !crossSite(req, trusted)) return next(req, res);
    const headers = req.headers;
    const formLike = headers['content-type'] !== undefined && FORM_TYPES.test(headers['content-type']);
    if (headers.cookie === undefined && !formLike) return next(req, res);
    res.writeHead(403, { 'content-type': JSON_CONTENT_TYPE, 'content-length': REFUSAL.length, 'cache-control': 'no-store' });
    res.end(REFUSAL);
  };
}

/** True when a browser says the request comes from another site (or an origin it will not name). */
function crossSite(req: IncomingMessage, trusted: ReadonlySet<string>): boolean {
  const { origin, host } = req.headers;
  const site = req.headers['sec-fetch-site'];
  if (site === 'same-origin' || site === 'none') return false;
  if (origin !== undefined && trusted.has(origin)) return false;
  if (site !== undefined) return true;
  if (origin === undefined) return false;
  return origin === 'null' || !sameHost(origin, host);
}

/**
 * The origin's host against the Host header. A proxy that forwards the host
 * without its port (nginx's `$host`) still matches on the name; an origin
 * on another name never does.
 */
function sameHost(origin: string, host: string | undefined): boolean {
  if (host === undefined) return false;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  return url.host === host || (!host.includes(':') && url.hostname === host);
}
