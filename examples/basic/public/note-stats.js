// Word statistics of a note arrive as a `note.stats` event on the `notes`
// channel once a background job computed them (src/features/notes/notes.jobs.ts),
// naming the instance whose worker ran the job: often not the one that stored
// the note, nor the one delivering this page's stream.

/** Adds the statistics under the note they belong to; false when the note is not on the page. */
export function showNoteStats(stats) {
  const item = document.querySelector(`#notes li[data-note-id="${Number(stats.noteId)}"]`);
  if (!item) return false;
  let line = item.querySelector('.stats');
  if (!line) {
    line = document.createElement('div');
    line.className = 'meta stats';
    item.append(line);
  }
  const words = stats.words === 1 ? 'word' : 'words';
  line.textContent = `${stats.words} ${words} (${stats.uniqueWords} unique), ${stats.characters} characters · job ${stats.jobId} run by ${stats.instanceId}`;
  line.dataset.instanceId = stats.instanceId;
  return true;
}
