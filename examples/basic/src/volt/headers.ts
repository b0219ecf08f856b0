import type { IncomingHttpHeaders } from 'node:http';

/**
 * `request.headers`: the Fetch `Headers` reading API (`get`, `has`, iteration)
 * over node's already-parsed header object, so handlers written for Fetch
 * runtimes (`request.headers.get('authorization')`) work without copying.
 */
export class RequestHeaders implements Iterable<[string, string]> {
  constructor(readonly raw: IncomingHttpHeaders) {}

  /** Case-insensitive; repeated headers are joined with `, ` (`set-cookie` too, as Fetch does). */
  get(name: string): string | null {
    const value = this.raw[name.toLowerCase()];
    if (value === undefined) return null;
    return typeof value === 'string' ? value : value.join(', ');
  }

  has(name: string): boolean {
    return this.raw[name.toLowerCase()] !== undefined;
  }

  *entries(): IterableIterator<[string, string]> {
    for (const name of Object.keys(this.raw)) {
      const value = this.get(name);
      if (value !== null) yield [name, value];
    }
  }

  keys(): IterableIterator<string> {
    return Object.keys(this.raw)[Symbol.iterator]();
  }

  forEach(callback: (value: string, name: string) => void): void {
    for (const [name, value] of this.entries()) callback(value, name);
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }

  toJSON(): Record<string, string> {
    return Object.fromEntries(this.entries());
  }
}
