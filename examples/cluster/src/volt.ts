import { loadConfig, projectPackage } from './config.js';
import { authSecuritySchemes } from './features/auth/auth.docs.js';
import { createAuthService, type AuthService } from './features/auth/auth.service.js';
import type { User } from './features/auth/user.js';
import { REGISTERED_JOBS } from './features/jobs.js';
import { createNotesRepository, type NotesRepository } from './features/notes/notes.repository.js';
import type { InstanceStats, InstanceStatsReader } from './features/stats/instance-stats.js';
import { Volt, type StoreAdapter, type VoltLogger, type VoltRuntime } from './volt/index.js';

/**
 * What every action sees as `context`. The composition root (`app.ts`) builds
 * it once per app and hands it to the router as `services`, so building the
 * context costs nothing per request; procedures that add per-request data
 * (the signed-in user: `use: [auth()]` adds `context.user`) extend a copy.
 */
export interface AppContext {
  store: StoreAdapter;
  logger: VoltLogger;
  instanceId: string;
  /** Token verification and SSE tickets, for `auth()` (features/auth). */
  auth: AuthService;
  notes: NotesRepository;
  stats: InstanceStatsReader;
}

/** What the realtime transport and channel rules see: the app's context and who opened the stream (null: nobody signed in). */
export type RealtimeContext = AppContext & { user: User | null };

/** Services for a router used without `instance({ services })` (e.g. `AppRouter.handler` on its own). */
const fallbackContexts = new WeakMap<VoltRuntime, AppContext>();
function fallbackContext(runtime: VoltRuntime): AppContext {
  let context = fallbackContexts.get(runtime);
  if (!context) {
    const { store, logger } = runtime;
    const instanceId = runtime.config.instanceId ?? 'local';
    const stats = async (): Promise<InstanceStats> => ({
      instanceId,
      cache: { hits: 0, misses: 0, hitPercentage: null },
      sse: { connections: 0 },
    });
    const auth = createAuthService(loadConfig({}).auth, undefined);
    context = { store, logger, instanceId, auth, notes: createNotesRepository(store), stats };
    fallbackContexts.set(runtime, context);
  }
  return context;
}

// Settings (base path, body limit, whether the docs are served) come from
// config.ts through `AppRouter.instance` in app.ts; the queue behind
// `volt.jobs` is attached there too.
export const volt = Volt.context((_request, runtime) => (runtime.services as AppContext | undefined) ?? fallbackContext(runtime))
  .jobs(REGISTERED_JOBS)
  // The OpenAPI document (`{basePATH}/openapi.json`, `npm run docs`) and its API reference at /docs.
  .docs({
    info: {
      title: projectPackage.name,
      version: projectPackage.version,
      description:
        'Every response is a JSON envelope `{ data, error }`: `data` on success, ' +
        '`error` (`{ code, message, details? }`) otherwise. Live updates come from the event stream.',
    },
    // Operations that `use: [auth()]` require one of these (features/auth).
    securitySchemes: authSecuritySchemes,
    playground: { route: '/docs' },
  })
  .create();
