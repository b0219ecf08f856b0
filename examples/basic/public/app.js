// The demo page's script (index.html loads it as a module): notes over the
// API, live events over Server-Sent Events, and sign-in (session.js). Files of
// their own, as the page's Content-Security-Policy runs no inline script.
import { API, api } from './api.js';
import { showNoteStats } from './note-stats.js';
import { currentSession, devSignIn, signInWithToken, signOut, streamTicket } from './session.js';

const $ = (id) => document.getElementById(id);
const shownNotes = new Set();
let streamInstance = '-';
/** The signed-in user's session (`/auth/me`), or null. */
let session = null;
let source = null;
/** Where the stream resumes from after a reconnect: the last SSE id received. */
let lastEventId = '';
let reconnectTimer;

function showNote(note, how) {
  if (shownNotes.has(note.id)) return;
  shownNotes.add(note.id);
  const item = document.createElement('li');
  item.dataset.noteId = String(note.id);
  item.textContent = note.text;
  const meta = document.createElement('div');
  meta.className = 'meta';
  const author = note.authorId ? `by ${note.authorId}, ` : '';
  meta.textContent = `#${note.id} ${author}stored by ${note.instanceId} · ${how}`;
  item.append(meta);
  $('notes').prepend(item);
}

function logEvent(list, text) {
  const item = document.createElement('li');
  item.textContent = text;
  $(list).prepend(item);
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

// ---- the live stream

/**
 * Opens the event stream: `notes` for everyone, plus the user's private
 * channel when signed in, with a one-time ticket. It resumes from the last
 * id received (`lastEventId`), so nothing published meanwhile is missed,
 * whichever instance nginx picks.
 */
async function connect() {
  clearTimeout(reconnectTimer);
  source?.close();
  const params = new URLSearchParams({ channels: session?.channel ? `notes,${session.channel}` : 'notes' });
  if (session?.user) {
    try {
      params.set('ticket', (await streamTicket()).ticket);
    } catch (error) {
      if (error.status === 401) return sessionEnded('Your session has ended: sign in again.');
      return reconnectSoon();
    }
  }
  if (lastEventId) params.set('lastEventId', lastEventId);
  const stream = new EventSource(`${API}/sse/events?${params}`);
  source = stream;

  // First event of every stream: who serves it and where it resumed from.
  stream.addEventListener('connected', (event) => {
    const info = JSON.parse(event.data);
    streamInstance = info.instanceId;
    $('stream-instance').textContent = streamInstance;
    remember(event);
    if (info.resumedFrom) setState('resumed', `resumed from id ${info.resumedFrom}`);
    else setState('connected', 'connected');
  });
  stream.addEventListener('note.created', (event) => {
    const envelope = JSON.parse(event.data);
    remember(event);
    if (envelope.channel === session?.channel) {
      logEvent('private-events', `note.created #${envelope.data.id} "${envelope.data.text}" (id ${envelope.id})`);
      return;
    }
    showNote(envelope.data, `live via ${streamInstance}`);
    logEvent('events', `note.created #${envelope.data.id} (id ${envelope.id}) delivered by ${streamInstance}`);
  });
  // Computed in the background after the note was stored, by any instance's worker.
  stream.addEventListener('note.stats', (event) => {
    const stats = JSON.parse(event.data).data;
    remember(event);
    showNoteStats(stats);
    logEvent('events', `note.stats #${stats.noteId} computed by ${stats.instanceId}, delivered by ${streamInstance}`);
  });
  stream.addEventListener('reset', (event) => {
    // The server cannot replay from our id (history trimmed past it, or an id
    // it never issued): reload the list, then follow live from here.
    remember(event);
    const { data } = JSON.parse(event.data);
    logEvent('events', `stream reset (${data.reason}): reloading the list`);
    loadNotes().catch(() => {});
  });
  // The token behind the stream expired: a new ticket (if the session still
  // holds a valid token) continues from the id this event carries.
  stream.addEventListener('auth.expired', (event) => {
    remember(event);
    stream.close();
    logEvent('events', 'sign-in expired: the stream ended');
    refreshSession()
      .then(() => {
        if (!session.user) $('account-error').textContent = 'Your sign-in expired: sign in again to follow your private events.';
        return connect();
      })
      .catch(reconnectSoon);
  });
  stream.addEventListener('error', () => {
    if (stream !== source) return;
    setState('reconnecting', 'reconnecting');
    // EventSource reconnects by itself with Last-Event-ID, but a signed-in
    // stream needs a new ticket, and a refused stream is not retried at all.
    if (session?.user || stream.readyState === EventSource.CLOSED) {
      stream.close();
      reconnectSoon();
    }
  });
}

function remember(event) {
  if (!event.lastEventId) return;
  lastEventId = event.lastEventId;
  $('last-event-id').textContent = lastEventId;
}

function reconnectSoon() {
  clearTimeout(reconnectTimer);
  reconnectTimer = setTimeout(() => connect().catch(reconnectSoon), 1000);
}

// ---- signing in and out

function showSession() {
  const user = session?.user;
  $('signed-in').hidden = !user;
  $('signed-out').hidden = Boolean(user);
  $('private').hidden = !user;
  $('sign-in-off').hidden = !session || session.signIn.configured;
  $('dev-sign-in').hidden = !session?.signIn.dev;
  $('token-sign-in').hidden = !session?.signIn.configured;
  if (user) {
    $('signed-in-as').textContent = user.name ? `${user.name} (${user.id})` : user.id;
    $('signed-in-until').textContent = new Date(user.expiresAt).toLocaleTimeString();
    $('private-channel').textContent = session.channel;
  }
}

async function refreshSession() {
  try {
    session = await currentSession();
  } catch (error) {
    if (error.status !== 401) throw error;
    // The cookie's token is no longer accepted (expired, or the server's keys changed): drop it.
    await signOut();
    session = await currentSession();
  }
  showSession();
}

function sessionEnded(message) {
  session = { ...session, user: null, channel: null };
  showSession();
  $('account-error').textContent = message;
  return connect();
}

/** A sign-in or sign-out changes which channels the stream may follow: reopen it (from where it was). */
async function changeSession(change) {
  $('account-error').textContent = '';
  try {
    await change();
    $('private-events').replaceChildren();
    await refreshSession();
    await connect();
  } catch (error) {
    $('account-error').textContent = error.message;
  }
}

$('dev-sign-in').addEventListener('submit', (event) => {
  event.preventDefault();
  changeSession(() => devSignIn($('dev-user').value));
});
$('token-sign-in').addEventListener('submit', (event) => {
  event.preventDefault();
  changeSession(async () => {
    await signInWithToken($('token-input').value);
    $('token-input').value = '';
  });
});
$('sign-out').addEventListener('click', () => changeSession(signOut));

// ---- notes

$('note-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const input = $('note-text');
  $('form-error').textContent = '';
  try {
    // Signed in: the session cookie goes along, and the note gets an author.
    const note = await api('/notes', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: input.value }),
    });
    showNote(note, 'added here');
    input.value = '';
  } catch (error) {
    $('form-error').textContent = error.message;
    // The session's token was refused (expired): show the page signed out.
    if (error.status === 401) changeSession(async () => {});
  }
});

refreshSession()
  .catch((error) => {
    $('account-error').textContent = error.message;
  })
  .finally(() => connect().catch(reconnectSoon));
loadNotes().catch((error) => {
  $('form-error').textContent = error.message;
});
refreshStats();
setInterval(refreshStats, 3000);
