// The template's kernel, compiled by bench/http.ts (VOLT_DIST), serving the
// real ping, notes and auth features on the in-memory store, with an
// X-Instance-Id header added the way the app's operations layer adds it
// (inside writeHead). Prints {"port":N}.
import { createServer } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const dist = process.env.VOLT_DIST;
if (!dist) throw new Error('VOLT_DIST is not set');
const load = (file) => import(pathToFileURL(join(dist, file)).href);

const { AppRouter } = await load('volt.router.js');
const { createMemoryStore } = await load('scaling/store/memory-store.js');
const { createNotesRepository } = await load('features/notes/notes.repository.js');
const { createAuthService } = await load('features/auth/auth.service.js');
const { loadConfig } = await load('config.js');
const { attachJobQueue, silentLogger } = await load('volt/index.js');
const { volt } = await load('volt.js');
const { HeaderAddingResponse, addResponseHeaders } = await load('scaling/http/header-adding-response.js');

const instanceId = 'bench-1';
const store = createMemoryStore();
// Tokens signed with AUTH_SECRET (the bench's) verify, as with the app's own settings.
const auth = createAuthService(
  loadConfig({ AUTH_SECRET: process.env.AUTH_SECRET, ...(process.env.AUTH_VERIFIED_TOKENS ? { AUTH_VERIFIED_TOKENS: process.env.AUTH_VERIFIED_TOKENS } : {}) })
    .auth,
  undefined,
);
const router = AppRouter.instance({
  store,
  logger: silentLogger,
  services: { store, logger: silentLogger, instanceId, auth, notes: createNotesRepository(store) },
  config: { basePATH: '/api/v1', instanceId, exposeErrors: false },
});
// POST /api/v1/notes schedules a background job: this server measures the
// kernel (as the other servers do the route's work), so the job queue takes
// the job and does nothing (bench/jobs.ts measures jobs).
attachJobQueue(volt.jobs, { add: async () => '0' });

const server = createServer({ ServerResponse: HeaderAddingResponse }, (req, res) => {
  addResponseHeaders(res, ['x-instance-id', instanceId]);
  router.listener(req, res);
});
server.keepAliveTimeout = 5000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`));

// Exit normally on a signal so --cpu-prof can write its profile.
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0));
