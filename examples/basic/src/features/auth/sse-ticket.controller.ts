import { volt } from '../../volt.js';
import { userChannel } from './auth.channels.js';
import { auth } from './auth.procedure.js';
import { SseTicket } from './auth.schema.js';

/**
 * `POST /api/v1/sse/ticket`: a one-time ticket that opens one stream as the
 * signed-in user, for clients that cannot send a header with the stream
 * request (EventSource):
 *
 *   new EventSource(`/api/v1/sse/events?channels=notes,${channel}&ticket=${ticket}`)
 *
 * It is valid for a few seconds (AUTH ticket settings in config.ts), on any
 * instance, once. The stream then lasts until the token's `exp`, ends with an
 * `auth.expired` event, and the client resumes with a new ticket and its last
 * event id.
 */
export const sseTicketController = volt.controller({
  name: 'sseTicket',
  path: '/sse',
  actions: {
    ticket: volt.mutation({
      path: '/ticket',
      method: 'POST',
      use: [auth()],
      description: 'A one-time ticket to open an event stream as the signed-in user',
      output: SseTicket,
      docs: { status: 201 },
      handler: async ({ context, response }) => {
        const { ticket, expiresAt } = await context.auth.tickets.issue(context.user);
        return response
          .setHeader('cache-control', 'no-store')
          .created({ ticket, expiresAt: new Date(expiresAt).toISOString(), channel: userChannel(context.user.id) });
      },
    }),
  },
});
