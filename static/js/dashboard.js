// The rooms dashboard, kept current over its own socket (no polling): each
// room's unread and mention counts for this person, who is online, and when
// the last message was sent. Text goes in through textContent only.

import { fillTime } from './room/dates.js';
import { Connection } from './room/connection.js';

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
  if (time && room.last_activity) fillTime(time, room.last_activity);
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
const state = document.getElementById('dashboard-state');

if (container && container.dataset.tokenUrl) {
  for (const time of container.querySelectorAll('time[data-last-activity]')) {
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
    onWelcome: (frame) => showRooms(container, frame.rooms),
    onFrame: (frame) => {
      if (frame.type === 'rooms') showRooms(container, frame.rooms);
    },
    onFinish: (name) => {
      if (name === 'signedout') window.location.reload();
      else if (state) state.textContent = STATE_TEXT[name] ?? '';
    },
  });
  window.addEventListener('online', () => connection.retryNow());
  connection.connect();
}
