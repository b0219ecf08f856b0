/**
 * npm run docs [-- --output docs/openapi.json]
 *
 * Writes the API's OpenAPI document, as `volt generate docs` does: the
 * document the app serves at `{BASE_PATH}/openapi.json`, built from the
 * controllers in src/features/ with the settings of .docs() in src/volt.ts.
 * The app is composed in memory (no Redis, nothing listens) to read it.
 * Actions or schemas it cannot fully describe are listed on stderr.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { silentLogger, type VoltLogger } from '../src/volt/index.js';

const { values } = parseArgs({ options: { output: { type: 'string', short: 'o', default: 'docs/openapi.json' } } });
const output = path.resolve(values.output!);

// The router reports what it could not fully describe through its logger: collected here, printed as a list.
const warnings: string[] = [];
const logger: VoltLogger = {
  ...silentLogger,
  warn: (details) => warnings.push(...((details as { warnings?: string[] }).warnings ?? [])),
  child: () => logger,
};

// The reference page is not needed to build the document.
const app = createApp({ ...loadConfig(), redis: { mode: 'none' }, apiDocs: false }, { logger });
const document = app.router.openapi();
await app.close();
mkdirSync(path.dirname(output), { recursive: true });
writeFileSync(output, `${JSON.stringify(document, null, 2)}\n`);

const operations = Object.values(document.paths).reduce((count, methods) => count + Object.keys(methods).length, 0);
console.log(`Wrote ${path.relative(process.cwd(), output) || output}: ${operations} operations`);
for (const warning of warnings) console.error(`  warning: ${warning}`);
