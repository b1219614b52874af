// Live chat room client: reads the room's config from #chat's data
// attributes, builds the pieces under room/ and wires them together.
// All user-controlled text goes into the page through textContent only.

import { Composer } from './room/composer.js';
import { Connection } from './room/connection.js';
import { EventLog } from './room/eventlog.js';
import { MessageLog } from './room/messages.js';
import { Outbox } from './room/outbox.js';
import { PeopleList } from './room/people.js';
import { ERROR } from './room/protocol.js';
import { StatusBadge } from './room/status.js';

function readConfig(root) {
  return {
    tokenUrl: root.dataset.tokenUrl || '',
    userId: root.dataset.userId || '',
    maxLength: Number.parseInt(root.dataset.maxLength, 10) || 0,
    slug: root.dataset.roomSlug || '',
    loginUrl: root.dataset.loginUrl || '/accounts/login/',
    // Staff only: each message gets a delete control posting to messagesUrl.
    moderator: root.dataset.moderator === '1',
    messagesUrl: root.dataset.messagesUrl || '',
    eventsUrl: root.dataset.eventsUrl || '',
    // Where the room's log stood when the server rendered the page.
    start: { seq: Number.parseInt(root.dataset.seq, 10), epoch: root.dataset.epoch || '' },
  };
}

const STARTED_OVER = 'You were away too long to catch up here: showing the latest messages.';
const NOTICE_MS = 15000;

// A room event, in seq order (the event log calls this once per event).
function applyEvent(frame, { messages, outbox }) {
  if (frame.type === 'message') {
    outbox.acknowledge([frame]);
    messages.add([frame]);
  } else if (frame.type === 'message_deleted') {
    outbox.settle(frame.client_id);
    messages.remove(frame.id);
  }
}

// A room event shown already, again (a resend's echo): only the outbox cares.
function settleDuplicate(frame, { outbox }) {
  if (frame.type === 'message') outbox.acknowledge([frame]);
  else if (frame.type === 'message_deleted') outbox.settle(frame.client_id);
}

// Every frame but the welcome and the room events (the event log's).
function handleFrame(frame, { composer, connection, log, people, outbox }) {
  switch (frame.type) {
    case 'position':
      log.position(frame);
      break;
    case 'user_joined':
      people.add(frame.user);
      break;
    case 'user_left':
      people.remove(frame.user);
      break;
    case 'room_closed':
      // The server follows up with close code 4404; stop right away anyway.
      connection.finish('closed');
      break;
    case 'error':
      // A rate-limited message waits in the outbox, which says so itself.
      if (frame.code !== ERROR.RATE_LIMITED) composer.showError(frame.detail || 'Something went wrong.');
      outbox.refused(frame);
      break;
    default:
      // Unknown frame types are ignored so the server can add new ones.
      break;
  }
}

function showNotice(el, text) {
  if (!el) return;
  el.textContent = text;
  setTimeout(() => {
    if (el.textContent === text) el.textContent = '';
  }, NOTICE_MS);
}

function start(root, els) {
  const config = readConfig(root);
  // The welcome names us when the page could not (userId stays '' until then).
  const isOwn = (user) => Boolean(user) && config.userId !== '' && String(user.id) === config.userId;

  const status = new StatusBadge(root, els.state, config.loginUrl);
  const composer = new Composer(els);
  const people = new PeopleList(els.people, els.peopleCount, { isOwn });
  const messages = new MessageLog(els.log, {
    isOwn,
    moderator: config.moderator,
    messagesUrl: config.messagesUrl,
    onError: (text) => composer.showError(text),
  });
  // The outbox and the event log work through the connection, and its
  // callbacks reach them; they first run after connect(), once all exist.
  const log = new EventLog({
    eventsUrl: config.eventsUrl,
    start: config.start,
    apply: (frame) => applyEvent(frame, { messages, outbox }),
    duplicate: (frame) => settleDuplicate(frame, { outbox }),
    replace: (history) => {
      outbox.acknowledge(history);
      messages.replaceAll(history);
      showNotice(els.notice, STARTED_OVER);
    },
  });
  const connection = new Connection({
    tokenUrl: config.tokenUrl,
    slug: config.slug,
    resumeFrom: () => log.resume || {},
    onState: (state, seconds) => {
      if (state !== 'connected') log.interrupted();
      status.show(state, seconds);
    },
    onWelcome: (frame) => {
      if (frame.user && config.userId === '') config.userId = String(frame.user.id);
      people.replace(frame.users);
      log.welcome(frame);
      outbox.flush();
    },
    onFrame: (frame) => {
      if (typeof frame.seq === 'number' && frame.type !== 'position') log.receive(frame);
      else handleFrame(frame, { composer, connection, log, people, outbox });
    },
    onFinish: (state) => {
      log.stop();
      outbox.clear();
      composer.setEnabled(false);
      status.show(state);
    },
  });
  const outbox = new Outbox({ composer, connection, maxLength: config.maxLength });

  messages.adopt();
  composer.listen({
    onSubmit: () => outbox.submit(),
    onEdit: () => outbox.draftEdited(),
  });
  // The network is back: skip the rest of the backoff wait.
  window.addEventListener('online', () => connection.retryNow());
  connection.connect();
}

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
  notice: document.getElementById('log-notice'),
};

if (root && els.log && els.form && els.input && els.state) {
  start(root, els);
}
