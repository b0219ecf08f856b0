import { volt } from '../../volt.js';

/** Liveness of the API layer itself (routing, context, envelope). */
export const pingController = volt.controller({
  name: 'ping',
  path: '/ping',
  actions: {
    ping: volt.query({
      path: '/',
      handler: ({ response }) => response.success({ pong: true }),
    }),
  },
});
