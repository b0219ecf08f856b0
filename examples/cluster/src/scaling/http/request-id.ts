import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/**
 * Request ids. An incoming `X-Request-Id` is kept only when the app is told to
 * trust it (`TRUST_REQUEST_ID=true`: the app is reachable only through a proxy
 * that sets it, as nginx does here), so one id follows a request across hops;
 * a caller could otherwise pick ids that collide with others' or lead whoever
 * reads the logs astray. Even a trusted id is replaced when it does not look
 * like one (too long, or characters that could forge log lines).
 * Generated ids are `<prefix>-<counter>`: a string concatenation per request
 * instead of a UUID, unique across instances and restarts through the prefix.
 */
const ACCEPTED = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

/** The id of each request, from its headers or made up. */
export function createRequestIds(instanceId: string, trustIncoming: boolean): (req: IncomingMessage) => string {
  const prefix = `${instanceId.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 64)}-${randomBytes(4).toString('hex')}-`;
  let counter = 0;
  return (req) => {
    if (trustIncoming) {
      const incoming = rawHeader(req.rawHeaders, 'x-request-id');
      if (incoming !== undefined && ACCEPTED.test(incoming)) return incoming;
    }
    counter = (counter + 1) % Number.MAX_SAFE_INTEGER;
    return prefix + counter.toString(36);
  };
}

/**
 * One request header by its lower-case name, read from `rawHeaders`: node
 * builds `req.headers` on first access, a cost the kernel's fast GET path
 * never pays otherwise. The first occurrence wins.
 */
export function rawHeader(rawHeaders: readonly string[], lowerCaseName: string): string | undefined {
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (name.length === lowerCaseName.length && name.toLowerCase() === lowerCaseName) return rawHeaders[i + 1];
  }
  return undefined;
}
