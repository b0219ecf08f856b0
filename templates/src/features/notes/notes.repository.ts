import type { StoreAdapter } from '../../volt/store.js';
import type { Note } from './notes.schema.js';

export const NOTES_SEQUENCE_KEY = 'notes:seq';
export const noteKey = (id: number) => `notes:${id}`;
export const NOTES_LIST_LIMIT = 50;

/**
 * Notes in the StoreAdapter, safe with any number of instances writing at
 * once: ids come from an atomic counter, each note is its own key, and the
 * list is read as the newest ids counting down from the counter, so no
 * shared list is ever read, modified and written back.
 */
export interface NotesRepository {
  create(text: string, instanceId: string): Promise<Note>;
  get(id: number): Promise<Note | null>;
  /** Newest first. */
  listNewest(limit?: number): Promise<Note[]>;
}

export function createNotesRepository(store: StoreAdapter): NotesRepository {
  return {
    async create(text, instanceId) {
      const id = await store.increment(NOTES_SEQUENCE_KEY);
      const note: Note = { id, text, createdAt: new Date().toISOString(), instanceId };
      await store.set(noteKey(id), note);
      return note;
    },

    get(id) {
      return store.get<Note>(noteKey(id));
    },

    async listNewest(limit = NOTES_LIST_LIMIT) {
      const newest = Number((await store.get<number>(NOTES_SEQUENCE_KEY)) ?? 0);
      const ids: number[] = [];
      for (let id = newest; id > 0 && ids.length < limit; id--) ids.push(id);
      // An id whose note is not written yet (or failed to be) is skipped, not waited for.
      const notes = await Promise.all(ids.map((id) => store.get<Note>(noteKey(id))));
      return notes.filter((note): note is Note => note !== null);
    },
  };
}
