import { volt } from '../../volt.js';

/** This instance's cache and realtime figures, shown live by the demo page. */
export const statsController = volt.controller({
  name: 'stats',
  path: '/stats',
  actions: {
    get: volt.query({
      path: '/',
      handler: async ({ context, response }) => response.success(await context.stats()),
    }),
  },
});
