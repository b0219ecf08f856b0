import { notesController } from './features/notes/notes.controller.js';
import { pingController } from './features/ping/ping.controller.js';
import { statsController } from './features/stats/stats.controller.js';
import { volt } from './volt.js';
// plop:imports (npm run gen controller <name> adds imports above this line)

/**
 * Every controller of the API. `app.ts` binds it to this app's store, logger
 * and realtime transport with `AppRouter.instance(...)`.
 */
export const AppRouter = volt.router({
  controllers: {
    ping: pingController,
    notes: notesController,
    stats: statsController,
    // plop:controllers (npm run gen controller <name> adds controllers above this line)
  },
});

export type AppRouter = typeof AppRouter;
