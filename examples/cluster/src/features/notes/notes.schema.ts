import { z } from 'zod';

export const CreateNoteBody = z
  .object({
    text: z.string().min(1, 'text must not be empty').max(500, 'text is limited to 500 characters'),
  })
  .meta({ id: 'CreateNoteBody', examples: [{ text: 'Ship the release notes' }] });
export type CreateNoteBody = z.infer<typeof CreateNoteBody>;

/** Note ids are positive integers from the `notes:seq` counter. */
export const NoteId = z.coerce
  .number()
  .int()
  .positive()
  .meta({ description: 'Note id', examples: [1] });

/** A stored note: what `notes:<id>` holds, checked on every read. */
export const Note = z
  .object({
    id: z.number().int().positive(),
    text: z.string(),
    createdAt: z.iso.datetime().describe('When it was created (ISO 8601, UTC)'),
    instanceId: z.string().describe('The instance that created it (shows requests spreading over instances)'),
    authorId: z
      .string()
      .nullable()
      .default(null)
      .describe('The signed-in user who wrote it; null when written anonymously (and in notes stored before notes had authors)'),
  })
  .meta({ id: 'Note' });
export type Note = z.infer<typeof Note>;
