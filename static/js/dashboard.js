// The rooms dashboard, kept current over its own socket (no polling): each
// room's unread and mention counts for this person, who is online, and when
// the last message was sent. Text goes in through textContent only.

import { Connection } from './room/connection.js';
import { fillTime } from './room/dates.js';
import { element } from './room/dom.js';
import { PeopleSuggestions } from './room/suggestions.js';

const STATE_TEXT = Object.freeze({
  connecting: 'Connecting…',
  connected: '',
  reconnecting: 'Reconnecting…',
  signedout: 'Signed out',
  error: 'Not available',
  closed: '',
});

function setCount(card, kind, value) {
  const holder = card.querySelector(`[data-count="${kind}"]`);
  if (!holder || !Number.isFinite(value)) return;
  const target = holder.querySelector('.count') || holder;
  const text = String(value);
  if (target.textContent !== text) target.textContent = text;
  if (kind !== 'online') holder.hidden = value === 0;
}

function showRoom(card, room) {
  setCount(card, 'unread', room.unread);
  setCount(card, 'mentions', room.mentions);
  setCount(card, 'online', room.online);
  const online = card.querySelector('.room-card-online');
  if (online) online.dataset.online = String(room.online);
  const time = card.querySelector('time[data-last-activity]');
  if (!time) return;
  if (room.last_activity) {
    fillTime(time, room.last_activity);
  } else {
    time.removeAttribute('datetime');
    time.removeAttribute('title');
    time.textContent = 'none yet';
  }
}

// A card as the server renders it (templates/rooms/dashboard.html).
function buildCard(room) {
  const card = element('a', { className: 'room-card', attrs: { 'data-room': room.slug } });
  card.href = `/rooms/${encodeURIComponent(room.slug)}/`;
  card.append(element('span', { className: 'room-card-name', text: room.name }));
  if (room.kind === 'private') card.append(element('span', { className: 'room-card-kind', text: 'Private' }));
  if (room.description) card.append(element('span', { className: 'room-card-description', text: room.description }));
  const counts = element('span', { className: 'room-card-counts' });
  for (const [kind, words] of [['unread', ' unread'], ['mentions', ' @ mentioning you']]) {
    const holder = element('span', { className: `room-card-${kind}`, attrs: { 'data-count': kind } });
    holder.append(element('span', { className: 'count', text: '0' }), words);
    counts.append(holder);
  }
  const online = element('span', { className: 'room-card-online' });
  online.append(
    element('span', { className: 'online-dot', attrs: { 'aria-hidden': 'true' } }),
    element('span', { text: '0', attrs: { 'data-count': 'online' } }),
    ' online',
  );
  const last = element('span', { className: 'room-card-last', text: 'Last message: ' });
  last.append(element('time', { text: 'none yet', attrs: { 'data-last-activity': '' } }));
  card.append(counts, online, last);
  showRoom(card, room);
  const item = element('li');
  item.append(card);
  return item;
}

// The welcome (and a relist) names every room: one made, archived, granted or
// taken away since the page loaded changes the grid.
function showAllRooms(container, rooms) {
  const shown = Array.from(container.querySelectorAll('a.room-card'), (card) => card.dataset.room);
  const listed = (rooms || []).map((room) => room.slug);
  if (shown.join('\n') === listed.join('\n')) {
    showRooms(container, rooms);
    return;
  }
  const grid = element('ul', { className: 'room-grid' });
  grid.append(...(rooms || []).map(buildCard));
  const empty = element('p', { className: 'empty-state', text: container.dataset.empty || '' });
  container.replaceChildren(listed.length ? grid : empty);
}

function showRooms(container, rooms) {
  // Cards are found by walking them, not by a selector built from a slug.
  const cards = new Map(Array.from(container.querySelectorAll('a.room-card'), (card) => [card.dataset.room, card]));
  for (const room of rooms || []) {
    const card = cards.get(room.slug);
    if (card) showRoom(card, room);
  }
}

const container = document.getElementById('room-list');
const directList = document.getElementById('direct-list');
const state = document.getElementById('dashboard-state');

// Direct conversations are listed apart from rooms.
function showAll(rooms) {
  showAllRooms(container, (rooms || []).filter((room) => room.kind !== 'direct'));
  if (directList) showAllRooms(directList, (rooms || []).filter((room) => room.kind === 'direct'));
}

function showChanged(rooms) {
  showRooms(container, rooms);
  if (directList) showRooms(directList, rooms);
}

if (container && container.dataset.tokenUrl) {
  for (const time of document.querySelectorAll('time[data-last-activity]')) {
    const iso = time.getAttribute('datetime');
    if (iso) fillTime(time, iso);
  }
  const connection = new Connection({
    tokenUrl: container.dataset.tokenUrl,
    slug: '',
    resumeFrom: () => ({}),
    onState: (name) => {
      if (state) state.textContent = STATE_TEXT[name] ?? '';
    },
    onWelcome: (frame) => showAll(frame.rooms),
    onFrame: (frame) => {
      if (frame.type === 'rooms') showChanged(frame.rooms);
      else if (frame.type === 'relist') showAll(frame.rooms);
    },
    onFinish: (name) => {
      // Signed out: the reload shows the sign-in page; expired: it runs the provider re-check.
      if (name === 'signedout' || name === 'expired') window.location.reload();
      else if (state) state.textContent = STATE_TEXT[name] ?? '';
    },
  });
  window.addEventListener('online', () => connection.retryNow());
  connection.connect();
}

const handle = document.getElementById('direct-handle');
if (handle && handle.dataset.peopleUrl && handle.list) {
  new PeopleSuggestions(handle, handle.list, handle.dataset.peopleUrl).start();
}
