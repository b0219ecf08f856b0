import { createNotesRepository, type NotesRepository } from './features/notes/notes.repository.js';
import type { InstanceStats, InstanceStatsReader } from './features/stats/instance-stats.js';
import { Volt, type StoreAdapter, type VoltLogger, type VoltRuntime } from './volt/index.js';

/**
 * What every action sees as `context`. The composition root (`app.ts`) builds
 * it once per app and hands it to the router as `services`, so building the
 * context costs nothing per request; procedures that add per-request data
 * (e.g. the signed-in user) extend a copy.
 */
export interface AppContext {
  store: StoreAdapter;
  logger: VoltLogger;
  instanceId: string;
  notes: NotesRepository;
  stats: InstanceStatsReader;
}

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
    context = { store, logger, instanceId, notes: createNotesRepository(store), stats };
    fallbackContexts.set(runtime, context);
  }
  return context;
}

// Settings (base path, body limit, ...) come from config.ts through `AppRouter.instance` in app.ts.
export const volt = Volt.context((_request, runtime) => (runtime.services as AppContext | undefined) ?? fallbackContext(runtime)).create();
