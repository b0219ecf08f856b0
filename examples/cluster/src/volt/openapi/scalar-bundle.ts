import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The browser build of Scalar's API reference: one self-contained script. */
export const SCALAR_BUNDLE = join('@scalar', 'api-reference', 'dist', 'browser', 'standalone.js');

/**
 * Where the installed `@scalar/api-reference` keeps its browser bundle, looked
 * up like a package (every `node_modules` from here to the root). A file path
 * rather than a package export: only some versions export the bundle, and a
 * production image may carry the bundle without the rest of the package.
 */
export function findScalarBundle(from: string = fileURLToPath(import.meta.url)): string | undefined {
  for (let dir = dirname(from); ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', SCALAR_BUNDLE);
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}
