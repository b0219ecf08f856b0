import { z } from 'zod';

export const CreateNoteBody = z.object({
  text: z.string().min(1, 'text must not be empty').max(500, 'text is limited to 500 characters'),
});
export type CreateNoteBody = z.infer<typeof CreateNoteBody>;

/** Note ids are positive integers from the `notes:seq` counter. */
export const NoteId = z.coerce.number().int().positive();

/** A stored note: what `notes:<id>` holds, checked on every read. */
export const Note = z.object({
  id: z.number().int().positive(),
  text: z.string(),
  /** ISO 8601. */
  createdAt: z.iso.datetime(),
  /** The instance that created it (shows requests spreading over instances). */
  instanceId: z.string(),
  /** The signed-in user who wrote it; null when written anonymously (and in notes stored before notes had authors). */
  authorId: z.string().nullable().default(null),
});
export type Note = z.infer<typeof Note>;
