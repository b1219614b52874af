// Live chat room client.
//
// Flow: fetch a short-lived connect ticket over HTTP (the session cookie
// authenticates that request), then open the WebSocket with the ticket in the
// query string. The ticket only opens the socket; every (re)connect fetches a
// fresh one and resumes from the highest message id we have seen, so nothing
// is missed or repeated.
//
// All user-controlled text goes into the page through textContent only.

const MAX_BACKOFF_MS = 30000;
const BASE_BACKOFF_MS = 1000;
const JITTER = 0.2;
const NEAR_BOTTOM_PX = 80;

const root = document.getElementById('chat');

const els = root && {
  state: document.getElementById('connection-state'),
  log: document.getElementById('messages'),
  people: document.getElementById('people'),
  peopleCount: document.getElementById('people-count'),
  form: document.getElementById('composer'),
  input: document.getElementById('message-input'),
  send: document.getElementById('send-button'),
  error: document.getElementById('composer-error'),
};

const config = root && {
  tokenUrl: root.dataset.tokenUrl || '',
  userId: root.dataset.userId || '',
  maxLength: Number.parseInt(root.dataset.maxLength, 10) || 0,
  slug: root.dataset.roomSlug || '',
  loginUrl: root.dataset.loginUrl || '/accounts/login/',
  // Staff only: each message gets a delete control posting to messagesUrl.
  moderator: root.dataset.moderator === '1',
  messagesUrl: root.dataset.messagesUrl || '',
};

// --- state -----------------------------------------------------------------

let socket = null;
let lastId = 0;
let backoffAttempt = 0;
let reconnectTimer = null;
let countdownTimer = null;
let connectSeq = 0; // bumps on every attempt so stale async results are ignored
let connecting = false;
let terminal = false; // closed / signed out / not found: never reconnect

// Messages sent but not yet echoed back, keyed by client_id (insertion order
// is send order). Re-sent after a reconnect; the server dedupes by client_id.
const pending = new Map();
// A message queued while offline whose text is still in the textarea, so we
// can clear the box once it has actually been sent.
let queuedDraft = null;

const messageById = new Map(); // id -> <li>
const personById = new Map(); // id (string) -> <li>

// --- small helpers ---------------------------------------------------------

function isOwn(user) {
  return Boolean(user) && config.userId !== '' && String(user.id) === config.userId;
}

function newClientId() {
  if (window.crypto && typeof crypto.randomUUID === 'function') {
    return crypto.randomUUID();
  }
  // randomUUID needs a secure context; plain http on a LAN address lacks it.
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function isNearBottom() {
  const { scrollHeight, scrollTop, clientHeight } = els.log;
  return scrollHeight - scrollTop - clientHeight < NEAR_BOTTOM_PX;
}

function scrollToBottom() {
  els.log.scrollTop = els.log.scrollHeight;
}

function showError(text) {
  els.error.textContent = text || '';
}

// --- connection state badge ------------------------------------------------

function setState(state, text) {
  els.state.dataset.state = state;
  root.dataset.state = state;
  els.state.textContent = text;
}

function setSignedOut() {
  els.state.dataset.state = 'signedout';
  root.dataset.state = 'signedout';
  els.state.textContent = 'Signed out — ';
  const link = document.createElement('a');
  const url = new URL(config.loginUrl, window.location.origin);
  url.searchParams.set('next', window.location.pathname);
  link.href = url.pathname + url.search;
  link.textContent = 'sign in again';
  els.state.append(link);
}

function setComposerEnabled(enabled) {
  els.input.disabled = !enabled;
  els.send.disabled = !enabled;
}

// Enter a state from which we never reconnect.
function finish(state) {
  terminal = true;
  clearReconnect();
  pending.clear();
  queuedDraft = null;
  setComposerEnabled(false);
  if (state === 'closed') {
    setState('closed', 'This room was closed');
  } else if (state === 'signedout') {
    setSignedOut();
  } else {
    setState('error', 'Room not found');
  }
  if (socket) {
    const ws = socket;
    socket = null;
    try { ws.close(1000); } catch { /* already closing */ }
  }
}

// --- messages --------------------------------------------------------------

function formatTime(timeEl) {
  const iso = timeEl.getAttribute('datetime');
  const date = new Date(iso);
  if (!iso || Number.isNaN(date.getTime())) return;
  timeEl.textContent = date.toLocaleTimeString([], { hour: 'numeric', minute: '2-digit' });
  timeEl.title = date.toLocaleString();
}

function buildMessage(msg) {
  const li = document.createElement('li');
  li.className = 'message';
  if (isOwn(msg.user)) li.classList.add('own');
  li.dataset.id = String(msg.id);

  const author = document.createElement('span');
  author.className = 'message-author';
  author.dataset.userId = String(msg.user ? msg.user.id : '');
  author.textContent = msg.user ? msg.user.name : '';

  const time = document.createElement('time');
  time.setAttribute('datetime', msg.sent_at || '');
  time.textContent = msg.sent_at || '';
  formatTime(time);

  const text = document.createElement('p');
  text.className = 'message-text';
  text.textContent = msg.text;

  // Same shape (including the separating spaces) as the server-rendered rows.
  li.append(author, ' ', time, ' ', text);
  if (config.moderator) li.append(buildDeleteButton(msg.id));
  return li;
}

function buildDeleteButton(id) {
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'message-delete';
  button.dataset.id = String(id);
  button.setAttribute('aria-label', 'Delete this message for everyone');
  button.textContent = 'Delete';
  return button;
}

function csrfToken() {
  const cookie = document.cookie.split('; ').find((c) => c.startsWith('csrftoken='));
  return cookie ? decodeURIComponent(cookie.slice('csrftoken='.length)) : '';
}

// The server answers with message_deleted to everyone, this page included,
// so the row goes away the same way for all.
async function deleteMessage(id) {
  const response = await fetch(`${config.messagesUrl}${encodeURIComponent(id)}/delete/`, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { Accept: 'application/json', 'X-CSRFToken': csrfToken() },
  }).catch(() => null);
  if (!response || !response.ok) showError('That message could not be deleted. Try again.');
}

// Insert a message keeping the list sorted by id. Returns true if inserted.
function insertMessage(msg) {
  const id = Number(msg.id);
  if (!Number.isFinite(id) || messageById.has(id)) return false;
  const li = buildMessage(msg);

  // New messages nearly always belong at the end, so walk backwards.
  let after = els.log.lastElementChild;
  while (after && Number(after.dataset.id) > id) {
    after = after.previousElementSibling;
  }
  if (after) after.after(li);
  else els.log.prepend(li);

  messageById.set(id, li);
  if (id > lastId) lastId = id;
  return true;
}

// The echo of our own message carries our client_id: it is delivered.
function acknowledge(msg) {
  if (msg.client_id && pending.has(msg.client_id)) {
    pending.delete(msg.client_id);
  }
}

function addMessages(list) {
  const stick = isNearBottom();
  let ownAdded = false;
  for (const msg of list) {
    acknowledge(msg);
    if (insertMessage(msg) && isOwn(msg.user)) ownAdded = true;
  }
  // Only follow new messages if the reader was already at the bottom (or
  // just sent one), so scrolling back through history is never interrupted.
  if (stick || ownAdded) scrollToBottom();
}

function removeMessage(id) {
  const key = Number(id);
  const li = messageById.get(key);
  if (li) {
    li.remove();
    messageById.delete(key);
  }
}

function adoptServerRenderedHistory() {
  for (const li of els.log.querySelectorAll('li.message')) {
    const id = Number(li.dataset.id);
    if (!Number.isFinite(id)) continue;
    messageById.set(id, li);
    if (id > lastId) lastId = id;
    const author = li.querySelector('.message-author');
    if (author && config.userId !== '' && author.dataset.userId === config.userId) {
      li.classList.add('own');
    }
    const time = li.querySelector('time');
    if (time) formatTime(time);
  }
  scrollToBottom();
}

// --- people online ---------------------------------------------------------

function updatePeopleCount() {
  els.peopleCount.textContent = `(${personById.size})`;
}

function buildPerson(user) {
  const li = document.createElement('li');
  li.dataset.userId = String(user.id);
  const name = document.createElement('span');
  name.className = 'person-name';
  name.textContent = user.name;
  li.append(name);
  if (isOwn(user)) {
    const you = document.createElement('span');
    you.className = 'person-you';
    you.textContent = ' (you)';
    li.append(you);
  }
  return li;
}

function addPerson(user) {
  if (!user || user.id === undefined || user.id === null) return;
  const key = String(user.id);
  const existing = personById.get(key);
  if (existing) existing.remove(); // re-insert: the name may have changed
  const li = buildPerson(user);
  // Keep the list alphabetical so it does not jump around as people come and go.
  const name = String(user.name || '');
  const before = Array.from(els.people.children).find((other) => {
    const otherName = other.querySelector('.person-name').textContent;
    return otherName.localeCompare(name, undefined, { sensitivity: 'base' }) > 0;
  });
  els.people.insertBefore(li, before || null);
  personById.set(key, li);
  updatePeopleCount();
}

function removePerson(user) {
  if (!user) return;
  const key = String(user.id);
  const li = personById.get(key);
  if (li) {
    li.remove();
    personById.delete(key);
    updatePeopleCount();
  }
}

function replacePeople(users) {
  els.people.replaceChildren();
  personById.clear();
  for (const user of users || []) addPerson(user);
  updatePeopleCount();
}

// --- sending ---------------------------------------------------------------

function socketOpen() {
  return socket !== null && socket.readyState === WebSocket.OPEN;
}

function transmit(clientId, text) {
  socket.send(JSON.stringify({ type: 'message', text, client_id: clientId }));
}

function flushPending() {
  for (const [clientId, text] of pending) transmit(clientId, text);
  if (queuedDraft) {
    // The queued text has now gone out; take it out of the box unless the
    // user has started typing something else.
    if (els.input.value.trim() === queuedDraft.text) els.input.value = '';
    queuedDraft = null;
    showError('');
  }
}

function submitMessage() {
  if (terminal) return;
  const text = els.input.value.trim();
  if (!text) return;
  if (config.maxLength && text.length > config.maxLength) {
    showError(`Messages can be at most ${config.maxLength} characters.`);
    return;
  }

  if (!socketOpen()) {
    // Keep the text visible and queue it; it goes out after the next welcome.
    // Re-submitting the same text reuses the same client_id (no duplicates).
    if (!queuedDraft || queuedDraft.text !== text) {
      if (queuedDraft) pending.delete(queuedDraft.clientId);
      queuedDraft = { clientId: newClientId(), text };
      pending.set(queuedDraft.clientId, text);
    }
    showError('Not connected — your message will be sent when the connection is back');
    return;
  }

  const clientId = newClientId();
  pending.set(clientId, text);
  showError('');
  try {
    transmit(clientId, text);
  } catch {
    // The socket died between the check and the send; the pending entry
    // will be re-sent after reconnecting.
  }
  els.input.value = '';
  els.input.focus();
}

// An error frame does not say which message it refers to. The most recently
// sent pending message is by far the likeliest culprit (e.g. rate limiting
// after a quick burst), so stop re-sending it and give its text back.
function rejectLatestPending() {
  const entries = Array.from(pending.keys());
  const clientId = entries[entries.length - 1];
  if (!clientId) return;
  const text = pending.get(clientId);
  pending.delete(clientId);
  if (queuedDraft && queuedDraft.clientId === clientId) queuedDraft = null;
  if (!els.input.value.trim()) els.input.value = text;
}

// --- incoming frames -------------------------------------------------------

function handleFrame(data) {
  switch (data.type) {
    case 'welcome':
      backoffAttempt = 0;
      setState('connected', 'Connected');
      if (data.user && config.userId === '') config.userId = String(data.user.id);
      replacePeople(data.users);
      addMessages(data.history || []);
      flushPending();
      break;
    case 'message':
      addMessages([data]);
      break;
    case 'user_joined':
      addPerson(data.user);
      break;
    case 'user_left':
      removePerson(data.user);
      break;
    case 'message_deleted':
      // A retry of a message a moderator deleted meanwhile carries our client_id:
      // it is settled, so stop re-sending it.
      if (data.client_id) pending.delete(data.client_id);
      removeMessage(data.id);
      break;
    case 'room_closed':
      // The server follows up with close code 4404; stop right away anyway.
      finish('closed');
      break;
    case 'error':
      showError(data.detail || 'Something went wrong.');
      if (['empty', 'too_long', 'rate_limited', 'muted'].includes(data.code)) rejectLatestPending();
      break;
    default:
      // Unknown frame types are ignored so the server can add new ones.
      break;
  }
}

// --- connecting and reconnecting -------------------------------------------

function clearReconnect() {
  if (reconnectTimer !== null) clearTimeout(reconnectTimer);
  if (countdownTimer !== null) clearInterval(countdownTimer);
  reconnectTimer = null;
  countdownTimer = null;
}

function backoffDelay() {
  const base = Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** backoffAttempt);
  const jitter = 1 - JITTER + Math.random() * 2 * JITTER;
  backoffAttempt += 1;
  // Jitter spreads reconnects out so a server restart is not met by a
  // synchronised stampede; the cap still holds afterwards.
  return Math.min(MAX_BACKOFF_MS, Math.round(base * jitter));
}

function scheduleReconnect() {
  if (terminal) return;
  clearReconnect();
  const delay = backoffDelay();
  const deadline = Date.now() + delay;
  const showCountdown = () => {
    const seconds = Math.max(1, Math.ceil((deadline - Date.now()) / 1000));
    setState('reconnecting', `Reconnecting in ${seconds}s…`);
  };
  showCountdown();
  countdownTimer = setInterval(showCountdown, 1000);
  reconnectTimer = setTimeout(() => {
    clearReconnect();
    connect();
  }, delay);
}

async function fetchTicket() {
  const response = await fetch(config.tokenUrl, {
    credentials: 'same-origin',
    headers: { Accept: 'application/json' },
  });
  if (response.status === 401 || response.status === 404) return { status: response.status };
  if (!response.ok) throw new Error(`ticket request failed: ${response.status}`);
  const ticket = await response.json();
  if (!ticket || typeof ticket.token !== 'string') throw new Error('malformed ticket');
  return { status: response.status, ticket };
}

function socketUrl(ticket) {
  const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws';
  const path = ticket.ws_url || `/ws/rooms/${encodeURIComponent(config.slug)}/`;
  const url = new URL(path, `${scheme}://${window.location.host}`);
  url.searchParams.set('token', ticket.token);
  if (lastId) url.searchParams.set('after', String(lastId));
  return url.href;
}

async function connect() {
  if (terminal || connecting || socket) return;
  clearReconnect();
  connecting = true;
  const seq = ++connectSeq;
  if (root.dataset.state !== 'reconnecting') setState('connecting', 'Connecting…');
  else els.state.textContent = 'Reconnecting…';

  let result;
  try {
    result = await fetchTicket();
  } catch {
    connecting = false;
    if (seq === connectSeq) scheduleReconnect();
    return;
  }
  connecting = false;
  if (seq !== connectSeq || terminal) return;

  if (result.status === 401) {
    finish('signedout');
    return;
  }
  if (result.status === 404) {
    finish('error');
    return;
  }
  openSocket(result.ticket);
}

function openSocket(ticket) {
  let ws;
  try {
    ws = new WebSocket(socketUrl(ticket));
  } catch {
    scheduleReconnect();
    return;
  }
  socket = ws;
  let welcomed = false;

  ws.addEventListener('message', (event) => {
    if (ws !== socket) return; // a socket we already gave up on
    let data;
    try {
      data = JSON.parse(event.data);
    } catch {
      return;
    }
    if (data && typeof data === 'object') {
      if (data.type === 'welcome') welcomed = true;
      handleFrame(data);
    }
  });

  ws.addEventListener('close', (event) => {
    if (ws !== socket) return;
    socket = null;
    if (terminal) return;
    if (event.code === 4404) {
      finish('closed');
    } else if (event.code === 4401 && welcomed) {
      // The user signed out or was deactivated somewhere: every socket of
      // theirs closes, but this browser's session may still be valid. Ask for
      // a ticket at once; connect() ends in "Signed out" on a 401 and carries
      // on after a 200. A 4401 before any welcome backs off like any failure.
      connect();
    } else {
      scheduleReconnect();
    }
  });
  // 'error' is always followed by 'close', which does the handling.
}

// --- wiring ----------------------------------------------------------------

function init() {
  adoptServerRenderedHistory();

  if (config.moderator) {
    els.log.addEventListener('click', (event) => {
      const button = event.target.closest('button.message-delete');
      if (button) deleteMessage(button.dataset.id);
    });
  }

  els.form.addEventListener('submit', (event) => {
    event.preventDefault();
    submitMessage();
  });

  els.input.addEventListener('keydown', (event) => {
    // Enter sends, Shift+Enter makes a newline; leave IME composition alone.
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
      event.preventDefault();
      submitMessage();
    }
  });

  els.input.addEventListener('input', () => {
    // Editing a queued draft withdraws it: the box is the source of truth
    // until the user submits again.
    if (queuedDraft && els.input.value.trim() !== queuedDraft.text) {
      pending.delete(queuedDraft.clientId);
      queuedDraft = null;
    }
  });

  window.addEventListener('online', () => {
    // The network is back: skip the rest of the backoff wait.
    if (!terminal && !socket && !connecting) {
      clearReconnect();
      connect();
    }
  });

  connect();
}

if (root && els.log && els.form && els.input && els.state) {
  init();
}
