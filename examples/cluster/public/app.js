// The demo page's script (index.html loads it as a module): notes over the API,
// live events over Server-Sent Events. A file of its own, as the page's
// Content-Security-Policy runs no inline script.
const API = '/api/v1';
const $ = (id) => document.getElementById(id);
const shownNotes = new Set();
let streamInstance = '-';

// Every response names the instance that served it (X-Instance-Id).
async function api(path, init) {
  const response = await fetch(API + path, init);
  $('request-instance').textContent = response.headers.get('x-instance-id') ?? '-';
  const body = await response.json();
  if (body.error) throw new Error(body.error.message);
  return body.data;
}

function showNote(note, how) {
  if (shownNotes.has(note.id)) return;
  shownNotes.add(note.id);
  const item = document.createElement('li');
  item.dataset.noteId = String(note.id);
  item.textContent = note.text;
  const meta = document.createElement('div');
  meta.className = 'meta';
  meta.textContent = `#${note.id} stored by ${note.instanceId} · ${how}`;
  item.append(meta);
  $('notes').prepend(item);
}

function logEvent(text) {
  const item = document.createElement('li');
  item.textContent = text;
  $('events').prepend(item);
}

function setState(state, label) {
  $('connection-state').dataset.state = state;
  $('connection-state').textContent = label;
}

async function loadNotes() {
  const notes = await api('/notes');
  for (const note of [...notes].reverse()) showNote(note, 'loaded');
}

async function refreshStats() {
  try {
    const stats = await api('/stats');
    const ratio = stats.cache.hitPercentage;
    $('cache-hit-ratio').textContent = ratio === null ? 'no lookups yet' : `${ratio.toFixed(1)} %`;
    $('cache-instance').textContent = `(instance ${stats.instanceId})`;
  } catch {
    // Stats are informative only; the next poll tries again.
  }
}

// EventSource reconnects by itself and sends Last-Event-ID, so whichever
// instance nginx picks replays what this page missed, then goes live.
function connect() {
  const source = new EventSource(`${API}/sse/events?channels=notes`);

  // First event of every stream: who serves it and where it resumed from.
  source.addEventListener('connected', (event) => {
    const info = JSON.parse(event.data);
    streamInstance = info.instanceId;
    $('stream-instance').textContent = streamInstance;
    $('last-event-id').textContent = event.lastEventId;
    if (info.resumedFrom) setState('resumed', `resumed from id ${info.resumedFrom}`);
    else setState('connected', 'connected');
  });
  source.addEventListener('note.created', (event) => {
    const envelope = JSON.parse(event.data);
    $('last-event-id').textContent = event.lastEventId;
    showNote(envelope.data, `live via ${streamInstance}`);
    logEvent(`note.created #${envelope.data.id} (id ${envelope.id}) delivered by ${streamInstance}`);
  });
  source.addEventListener('reset', (event) => {
    // The server cannot replay from our id (history trimmed past it, or an id
    // it never issued): reload the list, then follow live from here.
    const { data } = JSON.parse(event.data);
    logEvent(`stream reset (${data.reason}): reloading the list`);
    loadNotes().catch(() => {});
  });
  source.addEventListener('error', () => setState('reconnecting', 'reconnecting'));
}

$('note-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const input = $('note-text');
  $('form-error').textContent = '';
  try {
    const note = await api('/notes', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: input.value }),
    });
    showNote(note, 'added here');
    input.value = '';
  } catch (error) {
    $('form-error').textContent = error.message;
  }
});

connect();
loadNotes().catch((error) => {
  $('form-error').textContent = error.message;
});
refreshStats();
setInterval(refreshStats, 3000);
