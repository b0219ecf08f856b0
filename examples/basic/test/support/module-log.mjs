// Preload (`node --import ./test/support/module-log.mjs ...`): records every
// module the process loads and writes the list to MODULE_LOG_FILE at exit, one
// a line. ES modules (including CommonJS imported from them) are seen by a
// resolve hook (their URL); modules loaded with `require` are in require.cache
// (their path, a tab, and the path of the module that first required them).
import { writeFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { MessageChannel } from 'node:worker_threads';

const file = process.env.MODULE_LOG_FILE;
if (!file) throw new Error('module-log.mjs needs MODULE_LOG_FILE');

const resolved = new Set();
const { port1, port2 } = new MessageChannel();
port1.on('message', (url) => resolved.add(url));
port1.unref();
register('./module-log-hooks.mjs', import.meta.url, { data: { port: port2 }, transferList: [port2] });

const requireCache = createRequire(import.meta.url).cache;
process.once('exit', () => {
  // `parent` is deprecated for new code but still names the first requirer.
  const required = Object.values(requireCache).map((module) => `${module.filename}\t${module.parent?.filename ?? ''}`);
  writeFileSync(file, [...resolved, ...required].join('\n'));
});
