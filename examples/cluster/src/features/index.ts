/**
 * Every feature of the app, in one place: its controllers (the routes,
 * compiled by `volt.router.ts`) and its realtime channels (handed to the SSE
 * transport by `app.ts`). `npm run gen controller <name>` adds a feature to
 * both lists; nothing under `src/scaling/` changes when a feature is added.
 */
import type { ChannelRule } from '../scaling/realtime/index.js';
import type { RealtimeContext } from '../volt.js';
import { authChannels } from './auth/auth.channels.js';
import { authController } from './auth/auth.controller.js';
import { sseTicketController } from './auth/sse-ticket.controller.js';
import { notesChannels } from './notes/notes.channels.js';
import { notesController } from './notes/notes.controller.js';
import { pingController } from './ping/ping.controller.js';
import { statsController } from './stats/stats.controller.js';
// plop:imports (npm run gen controller <name> adds imports above this line)

export const controllers = {
  ping: pingController,
  auth: authController,
  sseTicket: sseTicketController,
  notes: notesController,
  stats: statsController,
  // plop:controllers (npm run gen controller <name> adds controllers above this line)
};

/** Channels clients may subscribe to, besides `broadcast` and `revalidate`. Rules see who opened the stream (`context.user`). */
export const channels: ChannelRule<RealtimeContext>[] = [
  ...authChannels,
  ...notesChannels,
  // plop:channels (npm run gen controller <name> adds channels above this line)
];
