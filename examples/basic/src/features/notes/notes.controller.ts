import { z } from 'zod';
import { StoreFullError } from '../../scaling/store/store-full.js';
import { volt } from '../../volt.js';
import { userChannel } from '../auth/auth.channels.js';
import { auth } from '../auth/auth.procedure.js';
import { NOTES_CHANNEL } from './notes.channels.js';
import { CreateNoteBody, Note, NoteId } from './notes.schema.js';

export const notesController = volt.controller({
  name: 'notes',
  path: '/notes',
  description: 'Short notes, shared by every instance; each new one is announced on the `notes` channel.',
  actions: {
    /** `stream: true`: clients refetch it when `notes.list` is revalidated. */
    list: volt.query({
      path: '/',
      stream: true,
      description: 'List the newest notes',
      output: z.array(Note),
      handler: async ({ context, response }) => response.success(await context.notes.listNewest()),
    }),

    /** A stored value that is not a note answers 500 STORED_VALUE_INVALID, naming its key. */
    get: volt.query({
      path: '/:id',
      description: 'Read a note',
      output: Note,
      docs: {
        params: { id: NoteId },
        errors: ['NOT_FOUND', { code: 'STORED_VALUE_INVALID', status: 500, description: 'The stored value is not a note; the message names its key.' }],
      },
      handler: async ({ request, context, response }) => {
        const id = NoteId.safeParse(request.params.id);
        const note = id.success ? await context.notes.get(id.data) : null;
        return note ? response.success(note) : response.notFound(`Note ${request.params.id} not found`);
      },
    }),

    /**
     * Anyone may write a note; a signed-in author's note carries `authorId`
     * and also reaches the author's private channel. 201: the note and its
     * `note.created` event are stored (see "Durability" in the README).
     * 503 STORE_FULL: Redis has no memory left for them, and neither was kept.
     */
    create: volt.mutation({
      path: '/',
      method: 'POST',
      body: CreateNoteBody,
      description: 'Create a note',
      output: Note,
      docs: {
        status: 201,
        errors: [{ code: 'STORE_FULL', status: 503, description: 'Redis has no memory left: neither the note nor its event was kept. Try again later.' }],
      },
      use: [auth({ optional: true })],
      handler: async ({ request, context, response, realtime }) => {
        const author = context.user;
        const note = await context.notes.create(request.body.text, context.instanceId, author?.id ?? null);
        if (realtime.enabled) {
          // Awaited, so a 201 means the event is in the channel's stream and any
          // instance can replay it. The note is saved either way: a publish that
          // still fails after the Redis client's retries is logged, not a 500
          // (a client retrying the POST would create the note twice).
          try {
            // Life of an event, step 1 (README): from here to every stream following
            // `notes`, and to the author's own streams (on whichever instance they are).
            await Promise.all([
              realtime.publish(NOTES_CHANNEL, note, { type: 'note.created' }),
              author && realtime.publish(userChannel(author.id), note, { type: 'note.created' }),
            ]);
          } catch (error) {
            if (!(error instanceof StoreFullError)) {
              context.logger.error({ err: error, noteId: note.id }, 'note.created publish failed');
            } else {
              // Redis refused the event whole (no memory left): take the note
              // back too, so a 503 leaves nothing behind.
              await context.notes.remove(note.id).catch((removeError: unknown) => {
                context.logger.error({ err: removeError, noteId: note.id }, 'note kept without its event: could not remove it');
              });
              throw error;
            }
          }
        }
        // Its word statistics are computed in the background, by any instance's worker.
        // Like the event, a failure to schedule is logged: the note is saved.
        try {
          // Life of a job, step 1 (README): from here to a worker on some instance.
          await volt.jobs.notes.schedule({ task: 'wordStats', input: { noteId: note.id } });
        } catch (error) {
          context.logger.error({ err: error, noteId: note.id }, 'notes.wordStats schedule failed');
        }
        return response.revalidate(['notes.list']).created(note);
      },
    }),
  },
});
