import type { StoreAdapter } from '../../volt/store.js';
import type { DistributedCache } from '../../scaling/cache/index.js';
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

export interface NotesRepositoryOptions {
  /**
   * Caches the newest-notes list (key `list` of the `notes` namespace). A
   * `create` deletes it, which evicts it from every instance's L1 at once.
   */
  listCache?: Pick<DistributedCache<Note[]>, 'getOrSet' | 'delete'>;
}

export const NOTES_LIST_CACHE_KEY = 'list';

export function createNotesRepository(store: StoreAdapter, options: NotesRepositoryOptions = {}): NotesRepository {
  const { listCache } = options;

  async function readNewest(limit: number): Promise<Note[]> {
    const newest = Number((await store.get<number>(NOTES_SEQUENCE_KEY)) ?? 0);
    const ids: number[] = [];
    for (let id = newest; id > 0 && ids.length < limit; id--) ids.push(id);
    // An id whose note is not written yet (or failed to be) is skipped, not waited for.
    const notes = await Promise.all(ids.map((id) => store.get<Note>(noteKey(id))));
    return notes.filter((note): note is Note => note !== null);
  }

  return {
    async create(text, instanceId) {
      const id = await store.increment(NOTES_SEQUENCE_KEY);
      const note: Note = { id, text, createdAt: new Date().toISOString(), instanceId };
      await store.set(noteKey(id), note);
      // Never fails: with Redis down the cache only clears this instance.
      await listCache?.delete(NOTES_LIST_CACHE_KEY);
      return note;
    },

    get(id) {
      return store.get<Note>(noteKey(id));
    },

    listNewest(limit = NOTES_LIST_LIMIT) {
      // Only the default page is cached: one key to invalidate.
      if (listCache && limit === NOTES_LIST_LIMIT) return listCache.getOrSet(NOTES_LIST_CACHE_KEY, () => readNewest(limit));
      return readNewest(limit);
    },
  };
}
