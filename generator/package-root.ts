import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_NAME = 'create-volt-scaled';

export interface PackageInfo {
  root: string;
  version: string;
  templatesDir: string;
  infraDir: string;
}

let cached: PackageInfo | undefined;

/**
 * The generator runs from source (generator/*.ts) and compiled (dist/generator/*.js);
 * walking up to our own package.json finds templates/ and infra/ in both cases.
 */
export function packageInfo(): PackageInfo {
  if (cached) return cached;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest)) {
      const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === PACKAGE_NAME && pkg.version) {
        cached = {
          root: dir,
          version: pkg.version,
          templatesDir: path.join(dir, 'templates'),
          infraDir: path.join(dir, 'infra'),
        };
        return cached;
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`Cannot find the ${PACKAGE_NAME} package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}
