import type { StoreAdapter } from '../../volt/store.js';
import type { DistributedCache } from '../../scaling/cache/index.js';
import { readAllValidated, readValidated, type StoredValueError } from '../../scaling/store/read-validated.js';
import { Note } from './notes.schema.js';

export const NOTES_SEQUENCE_KEY = 'notes:seq';
export const noteKey = (id: number) => `notes:${id}`;
export const NOTES_LIST_LIMIT = 50;

/**
 * Notes in the StoreAdapter, safe with any number of instances writing at
 * once: ids come from an atomic counter, each note is its own key, and the
 * list is read as the newest ids counting down from the counter, so no
 * shared list is ever read, modified and written back. Every read goes
 * through the `Note` schema.
 */
export interface NotesRepository {
  /** Throws StoreFullError (503) when Redis has no memory left for it; nothing is written then. */
  create(text: string, instanceId: string, authorId: string | null): Promise<Note>;
  /** Throws StoredValueError (500, naming the key) when the stored value is not a note. */
  get(id: number): Promise<Note | null>;
  /** Newest first; a stored value that is not a note is left out (and reported to `onInvalid`). */
  listNewest(limit?: number): Promise<Note[]>;
  remove(id: number): Promise<void>;
}

export interface NotesRepositoryOptions {
  /**
   * Caches the newest-notes list (key `list` of the `notes` namespace). A
   * `create` deletes it, which evicts it from every instance's L1 at once.
   */
  listCache?: Pick<DistributedCache<Note[]>, 'getOrSet' | 'delete'>;
  /** A note left out of the list because its stored value does not match the schema. */
  onInvalid?: (error: StoredValueError) => void;
}

export const NOTES_LIST_CACHE_KEY = 'list';

export function createNotesRepository(store: StoreAdapter, options: NotesRepositoryOptions = {}): NotesRepository {
  const { listCache } = options;

  async function readNewest(limit: number): Promise<Note[]> {
    const newest = Number((await store.get<number>(NOTES_SEQUENCE_KEY)) ?? 0);
    const ids: number[] = [];
    for (let id = newest; id > 0 && ids.length < limit; id--) ids.push(id);
    // An id whose note is not written yet (or failed to be) is skipped, not waited for;
    // so is one that holds something else than a note: the rest of the list still serves.
    return readAllValidated(store, ids.map(noteKey), Note, options.onInvalid);
  }

  return {
    async create(text, instanceId, authorId) {
      const id = await store.increment(NOTES_SEQUENCE_KEY);
      const note: Note = { id, text, createdAt: new Date().toISOString(), instanceId, authorId };
      await store.set(noteKey(id), note);
      // Never fails: with Redis down the cache only clears this instance.
      await listCache?.delete(NOTES_LIST_CACHE_KEY);
      return note;
    },

    get(id) {
      return readValidated(store, noteKey(id), Note);
    },

    listNewest(limit = NOTES_LIST_LIMIT) {
      // Only the default page is cached: one key to invalidate.
      if (listCache && limit === NOTES_LIST_LIMIT) return listCache.getOrSet(NOTES_LIST_CACHE_KEY, () => readNewest(limit));
      return readNewest(limit);
    },

    async remove(id) {
      await store.delete(noteKey(id));
      await listCache?.delete(NOTES_LIST_CACHE_KEY);
    },
  };
}
