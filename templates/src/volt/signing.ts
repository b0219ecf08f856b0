import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Signed values: `<value>.<base64url HMAC-SHA256(value)>`. The value stays
 * readable (signing proves it was issued by us, it does not hide it).
 */
export function signValue(value: string, secret: string): string {
  return `${value}.${createHmac('sha256', secret).update(value).digest('base64url')}`;
}

/** The original value, or `null` when the signature is missing or wrong. */
export function unsignValue(signed: string, secret: string): string | null {
  const dot = signed.lastIndexOf('.');
  if (dot <= 0) return null;
  const value = signed.slice(0, dot);
  const given = Buffer.from(signed.slice(dot + 1), 'base64url');
  const expected = createHmac('sha256', secret).update(value).digest();
  // Length check first: timingSafeEqual throws on different lengths.
  return given.length === expected.length && timingSafeEqual(given, expected) ? value : null;
}
