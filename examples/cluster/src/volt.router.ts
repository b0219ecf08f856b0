import { controllers } from './features/index.js';
import { volt } from './volt.js';

/**
 * Every controller of the API (listed in `features/index.ts`). `app.ts` binds
 * it to this app's store, logger and realtime transport with
 * `AppRouter.instance(...)`.
 */
export const AppRouter = volt.router({ controllers });

export type AppRouter = typeof AppRouter;
