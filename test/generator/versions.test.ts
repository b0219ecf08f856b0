import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageInfo } from '../../generator/package-root.js';

type Manifest = { dependencies?: Record<string, string>; devDependencies?: Record<string, string> };

/**
 * templates/ is typechecked and tested in place against the root node_modules,
 * so the generated project must ask for the same versions the root installs.
 */
describe('dependency versions', () => {
  it('templates/package.json.hbs uses the same version ranges as the root package.json', async () => {
    const { root, templatesDir } = packageInfo();
    const rootPkg = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as Manifest;
    // The template's only Handlebars in package.json is the name; fill it to parse the rest as JSON.
    const templateText = (await readFile(path.join(templatesDir, 'package.json.hbs'), 'utf8')).replaceAll('{{name}}', 'x');
    const templatePkg = JSON.parse(templateText) as Manifest;
    const rootVersions = { ...rootPkg.dependencies, ...rootPkg.devDependencies };
    const templateVersions = { ...templatePkg.dependencies, ...templatePkg.devDependencies };

    expect(Object.keys(templateVersions).length).toBeGreaterThan(0);
    const drift = Object.entries(templateVersions)
      .filter(([name, range]) => rootVersions[name] !== range)
      .map(([name, range]) => `${name}: template ${range}, root ${rootVersions[name] ?? '(missing)'}`);
    expect(drift, 'add or update the dependency in the root package.json (npm i -D) and templates/package.json.hbs together').toEqual([]);
  });

  it('the template declares the runtime and tool dependencies the project needs', async () => {
    const { templatesDir } = packageInfo();
    const templatePkg = JSON.parse((await readFile(path.join(templatesDir, 'package.json.hbs'), 'utf8')).replaceAll('{{name}}', 'x')) as Manifest;
    expect(Object.keys(templatePkg.dependencies ?? {})).toEqual(
      expect.arrayContaining(['ioredis', 'rou3', 'zod', 'lru-cache', 'prom-client', 'compression', 'pino']),
    );
    expect(Object.keys(templatePkg.devDependencies ?? {})).toEqual(
      expect.arrayContaining(['typescript', 'tsx', 'vitest', '@types/node', '@types/compression', 'plop']),
    );
  });
});
