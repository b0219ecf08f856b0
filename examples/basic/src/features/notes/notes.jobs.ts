import { z } from 'zod';
import { jobs } from '../../jobs.js';
import { NOTES_CHANNEL } from './notes.channels.js';
import { wordStats } from './notes.stats.js';

/**
 * Background jobs of the notes feature. `POST /api/v1/notes` schedules
 * `wordStats` for each new note; whichever instance runs it publishes the
 * result as a `note.stats` event on the `notes` channel, naming itself, and
 * the demo page shows it arriving.
 */
export const notesJobs = jobs.router({
  namespace: 'notes',
  jobs: {
    wordStats: jobs.register({
      input: z.object({ noteId: z.number().int().positive() }),
      handler: async ({ payload, context }) => {
        const note = await context.notes.get(payload.noteId);
        // Thrown: retried with backoff, then failed (a note is stored before its job is scheduled).
        if (!note) throw new Error(`note ${payload.noteId} not found`);
        return { noteId: note.id, ...wordStats(note.text) };
      },
      onSuccess: async ({ id, result, context, realtime }) => {
        await realtime.publish(NOTES_CHANNEL, { ...result, jobId: id, instanceId: context.instanceId }, { type: 'note.stats' });
      },
    }),
  },
});
