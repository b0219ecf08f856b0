import { z } from 'zod';

export const CreateNoteBody = z.object({
  text: z.string().min(1, 'text must not be empty').max(500, 'text is limited to 500 characters'),
});
export type CreateNoteBody = z.infer<typeof CreateNoteBody>;

/** Note ids are positive integers from the `notes:seq` counter. */
export const NoteId = z.coerce.number().int().positive();

export interface Note {
  id: number;
  text: string;
  /** ISO 8601. */
  createdAt: string;
  /** The instance that created it (shows requests spreading over instances). */
  instanceId: string;
}
