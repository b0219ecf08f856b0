import type { NotesRepository } from './features/notes/notes.repository.js';
import { Volt, type StoreAdapter, type VoltLogger } from './volt/index.js';

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
}

export const volt = Volt.context((_request, runtime) => runtime.services as AppContext)
  .config({ basePATH: '/api/v1' })
  .create();
