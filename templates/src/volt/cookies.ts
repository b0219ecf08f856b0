import { parse, serialize } from 'cookie';
import { VoltError } from './errors.js';
import { signValue, unsignValue } from './signing.js';

export interface CookieOptions {
  /** Seconds. */
  maxAge?: number;
  expires?: Date;
  /** Defaults to `/`. */
  path?: string;
  domain?: string;
  secure?: boolean;
  httpOnly?: boolean;
  sameSite?: boolean | 'lax' | 'strict' | 'none';
  partitioned?: boolean;
  priority?: 'low' | 'medium' | 'high';
}

/**
 * Serializes one `Set-Cookie` header value: `defaults` (the router's, see
 * `VOLT_DEFAULTS.cookies`) under the options of this one cookie.
 */
export function serializeCookie(name: string, value: string, options: CookieOptions | undefined, defaults: CookieOptions): string {
  return serialize(name, value, options === undefined ? defaults : { ...defaults, ...options });
}

/** Where `Set-Cookie` lines go: the response of the same request, which applies the router's cookie defaults. */
export interface SetCookieSink {
  setCookie(name: string, value: string, options?: CookieOptions): unknown;
}

/**
 * `request.cookies`: reads the `Cookie` header on first use; `set`/`delete`
 * answer with `Set-Cookie` on this request's response and are visible to later
 * reads in the same request.
 */
export class RequestCookies {
  private parsed: Record<string, string | undefined> | undefined;

  constructor(
    private readonly header: string | undefined,
    private readonly sink: SetCookieSink,
    private readonly secret: string | undefined,
  ) {}

  get(name: string): string | undefined {
    return this.all()[name];
  }

  has(name: string): boolean {
    return this.all()[name] !== undefined;
  }

  getAll(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [key, value] of Object.entries(this.all())) if (value !== undefined) out[key] = value;
    return out;
  }

  set(name: string, value: string, options?: CookieOptions): void {
    this.sink.setCookie(name, value, options);
    this.all()[name] = value;
  }

  /** Expires the cookie in the client; pass the same `path`/`domain` it was set with. */
  delete(name: string, options: Pick<CookieOptions, 'path' | 'domain' | 'secure' | 'sameSite' | 'partitioned'> = {}): void {
    this.sink.setCookie(name, '', { ...options, maxAge: 0, expires: new Date(0) });
    this.all()[name] = undefined;
  }

  /** The value of a signed cookie, or `null` when it is missing or its signature does not match. */
  getSigned(name: string): string | null {
    const raw = this.get(name);
    return raw === undefined ? null : unsignValue(raw, this.requireSecret());
  }

  setSigned(name: string, value: string, options?: CookieOptions): void {
    this.set(name, signValue(value, this.requireSecret()), options);
  }

  private all(): Record<string, string | undefined> {
    if (this.parsed === undefined) {
      // `parse` returns a null-prototype object, so `__proto__` is an ordinary name.
      this.parsed = this.header ? parse(this.header) : Object.create(null);
    }
    return this.parsed!;
  }

  private requireSecret(): string {
    if (!this.secret) throw new VoltError('INTERNAL_SERVER_ERROR', 'Signed cookies need COOKIE_SECRET to be set');
    return this.secret;
  }
}
