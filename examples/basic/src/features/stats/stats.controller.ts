import { volt } from '../../volt.js';
import { InstanceStats } from './instance-stats.js';

/** This instance's cache and realtime figures, shown live by the demo page. */
export const statsController = volt.controller({
  name: 'stats',
  path: '/stats',
  actions: {
    get: volt.query({
      path: '/',
      description: "This instance's cache and realtime figures",
      output: InstanceStats,
      handler: async ({ context, response }) => response.success(await context.stats()),
    }),
  },
});
