import { z } from 'zod';
import { volt } from '../../volt.js';

/** Liveness of the API layer itself (routing, context, envelope). */
export const pingController = volt.controller({
  name: 'ping',
  path: '/ping',
  actions: {
    ping: volt.query({
      path: '/',
      description: 'Check that the API answers',
      output: z.object({ pong: z.literal(true) }),
      handler: ({ response }) => response.success({ pong: true as const }),
    }),
  },
});
