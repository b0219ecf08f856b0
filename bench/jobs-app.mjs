// The app as src/server.ts runs it (createApp on REDIS_URL, workers per
// JOBS_WORKERS), request lines off, for bench/jobs.ts. BENCH_JOBS=drop
// attaches a job queue that takes every job and does nothing: the notes
// route then runs without its job. Compiled template from VOLT_DIST.
// Prints {"port":N}.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const dist = process.env.VOLT_DIST;
if (!dist) throw new Error('VOLT_DIST is not set');
const load = (file) => import(pathToFileURL(join(dist, file)).href);

const { createApp } = await load('app.js');
const { loadConfig } = await load('config.js');
const { volt } = await load('volt.js');
const { attachJobQueue } = await load('volt/index.js');

const app = createApp(loadConfig({ ...process.env, NODE_ENV: 'production', LOG_LEVEL: 'warn', METRICS_PORT: 'off', INSTANCE_ID: 'bench-1' }));
// The most recently attached queue is the one volt.jobs uses.
if (process.env.BENCH_JOBS === 'drop') attachJobQueue(volt.jobs, { add: async () => '0' });

app.server.listen(0, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ port: app.server.address().port })}\n`));
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    app.close().finally(() => process.exit(0));
  });
}
