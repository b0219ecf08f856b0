import type { OpenApiServerObject } from './types.js';

/**
 * The Content-Security-Policy of the API reference page, the only page of the
 * API that runs scripts: the reference's bundle and its settings come from this
 * origin, so scripts are same-origin only (no inline script, no eval). Its
 * styles are injected by the bundle at run time, hence `'unsafe-inline'` for
 * styles alone. "Try it" requests may go to the document's servers.
 */
export function docsContentSecurityPolicy(servers: readonly OpenApiServerObject[] | undefined): string {
  const origins = new Set<string>();
  for (const server of servers ?? []) {
    const origin = originOf(server.url);
    if (origin) origins.add(origin);
  }
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    ["connect-src 'self'", ...origins].join(' '),
    "worker-src 'self' blob:",
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** The origin of an absolute server URL; relative URLs (`/`, `/api`) are this origin already. */
function originOf(url: string): string | undefined {
  if (!/^https?:\/\//i.test(url)) return undefined;
  try {
    // Server variables (`https://{region}.example.com`) cannot be pinned to one origin.
    return url.includes('{') ? undefined : new URL(url).origin;
  } catch {
    return undefined;
  }
}
