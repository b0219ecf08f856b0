import { randomBytes } from 'node:crypto';

/**
 * Request ids: an upstream `X-Request-Id` (from nginx or a caller) is kept when
 * it looks like an id, so one id follows a request across hops; anything else
 * (too long, or characters that could forge log lines) is replaced.
 * Generated ids are `<prefix>-<counter>`: a string concatenation per request
 * instead of a UUID, unique across instances and restarts through the prefix.
 */
const ACCEPTED = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

export function createRequestIds(instanceId: string): (incoming: string | string[] | undefined) => string {
  const prefix = `${instanceId.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 64)}-${randomBytes(4).toString('hex')}-`;
  let counter = 0;
  return (incoming) => {
    if (typeof incoming === 'string' && ACCEPTED.test(incoming)) return incoming;
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
