// Live chat room client: reads the room's config from #chat's data
// attributes, builds the pieces under room/ and wires them together.
// All user-controlled text goes into the page through textContent only.

import { MessageActions } from './room/actions.js';
import { Announcer } from './room/announcer.js';
import { Composer } from './room/composer.js';
import { Connection } from './room/connection.js';
import { EventLog } from './room/eventlog.js';
import { HistoryPager, jumpToLatest } from './room/history.js';
import { MentionCompletion } from './room/mentions.js';
import { MessageLog } from './room/messages.js';
import { MentionNotifier } from './room/notifications.js';
import { Outbox } from './room/outbox.js';
import { PendingList } from './room/pending.js';
import { PeopleList } from './room/people.js';
import { ERROR } from './room/protocol.js';
import { StatusBadge } from './room/status.js';
import { TypingLine, TypingSender } from './room/typing.js';
import { ReadTracker } from './room/unread.js';

function readConfig(root) {
  return {
    tokenUrl: root.dataset.tokenUrl || '',
    userId: root.dataset.userId || '',
    maxLength: Number.parseInt(root.dataset.maxLength, 10) || 0,
    slug: root.dataset.roomSlug || '',
    loginUrl: root.dataset.loginUrl || '/accounts/login/',
    // Staff: a Delete control on every message, not only their own.
    moderator: root.dataset.moderator === '1',
    messagesUrl: root.dataset.messagesUrl || '',
    eventsUrl: root.dataset.eventsUrl || '',
    peopleUrl: root.dataset.peopleUrl || '',
    // Seconds after sending that a message may still be edited (0: never).
    editWindow: Number.parseInt(root.dataset.editWindow, 10) || 0,
    // Where the room's log stood when the server rendered the page.
    start: { seq: Number.parseInt(root.dataset.seq, 10), epoch: root.dataset.epoch || '' },
    // How far this person had read when the page was rendered.
    readSeq: Number.parseInt(root.dataset.readSeq, 10),
    olderHistory: root.dataset.hasMore === '1',
  };
}

const STARTED_OVER = 'You were away too long to catch up here: showing the latest messages.';
const NOT_FOUND = 'That message is not in this room any more: it was deleted.';
const NOTICE_MS = 15000;

// Frames that are room events (a seq in the room's log); others may carry a seq too.
const ROOM_EVENTS = new Set(['message', 'message_edited', 'message_deleted', 'reactions']);

// A room event, in seq order (the event log calls this once per event).
function applyEvent(frame, parts) {
  const { messages, pager, outbox, actions, reads, typingLine, notifier, announcer, isOwn } = parts;
  if (frame.type === 'message') {
    // News only if it enters the log now (or waits aside, below a stretch
    // opened far back): a replay sends a changed message whole, the welcome
    // repeats the page's history, and one older than the log's top waits for
    // paging back.
    const known = messages.knows(frame.id);
    const sentHere = outbox.isPending(frame.client_id);
    outbox.acknowledge([frame]);
    messages.add([frame]);
    const fresh = !known && messages.knows(frame.id);
    // What this page sent shows at the latest: from a stretch far back, go there.
    if (sentHere && messages.detached) pager.toLatest();
    actions.settled(frame);
    if (frame.user) typingLine.stopped(frame.user.id);
    if (fresh) {
      reads.arrived(frame);
      notifier.message(frame);
      if (!isOwn(frame.user)) announcer.message(frame);
    }
  } else if (frame.type === 'message_edited') {
    messages.edited(frame);
    actions.settled(frame);
  } else if (frame.type === 'reactions') {
    messages.reactions(frame);
  } else if (frame.type === 'message_deleted') {
    outbox.settle(frame.client_id);
    actions.settled(frame);
    messages.remove(frame.id);
  }
}

// A room event shown already, again: a resend's echo (the outbox settles by
// it), or the answer to an edit that changed nothing (its editor closes).
function settleDuplicate(frame, { outbox, actions }) {
  if (frame.type === 'message') outbox.acknowledge([frame]);
  else if (frame.type === 'message_deleted') outbox.settle(frame.client_id);
  else if (frame.type === 'message_edited') actions.settled(frame);
}

// People came or went (user_joined, user_left, or several at once in a
// presence_diff): more than two changes are one announcement for all.
function applyPresenceDiff(frame, { people, messages, typingLine, announcer, isOwn }) {
  const joins = Array.isArray(frame.joins) ? frame.joins.filter(Boolean) : [];
  const leaves = Array.isArray(frame.leaves) ? frame.leaves.filter(Boolean) : [];
  for (const user of leaves) {
    people.remove(user);
    typingLine.stopped(user.id);
  }
  for (const user of joins) people.add(user);
  messages.learnNames(joins);
  // Never oneself in practice (news is cut at this page's roster): never announce one's own arrival.
  const came = joins.filter((user) => !isOwn(user));
  const went = leaves.filter((user) => !isOwn(user));
  if (came.length + went.length <= 2) {
    for (const user of came) announcer.say(`${user.name} joined`);
    for (const user of went) announcer.say(`${user.name} left`);
  } else {
    const parts = [];
    if (came.length) parts.push(`${came.length} ${came.length === 1 ? 'person' : 'people'} joined`);
    if (went.length) parts.push(`${went.length} ${went.length === 1 ? 'person' : 'people'} left`);
    announcer.say(parts.join(', '));
  }
}

// Every frame but the welcome and the room events (the event log's).
function handleFrame(frame, parts) {
  const { composer, connection, log, outbox, actions, reads, typingLine } = parts;
  switch (frame.type) {
    case 'position':
      log.position(frame);
      break;
    case 'typing':
      typingLine.typing(frame.user);
      break;
    case 'read':
      reads.readElsewhere(frame.seq);
      break;
    case 'user_joined':
      applyPresenceDiff({ joins: [frame.user] }, parts);
      break;
    case 'user_left':
      applyPresenceDiff({ leaves: [frame.user] }, parts);
      break;
    case 'presence_diff':
      applyPresenceDiff(frame, parts);
      break;
    case 'room_closed':
      // The server follows up with close code 4404; stop right away anyway.
      connection.finish('closed');
      break;
    case 'error':
      if (frame.code === ERROR.REFRESH_REFUSED) {
        // Nothing anyone typed: the socket closes at its deadline and reconnects with a fresh ticket.
      } else if (typeof frame.id === 'number') {
        actions.refused(frame); // about an edit, delete or reaction
      } else {
        // A rate-limited message waits in the outbox, which says so itself.
        if (frame.code !== ERROR.RATE_LIMITED) composer.showError(frame.detail || 'Something went wrong.');
        outbox.refused(frame);
      }
      break;
    default:
      // Unknown frame types are ignored so the server can add new ones.
      break;
  }
}

// Opened at a message (a search result's link, ?message=<id>): it is shown
// amid its neighbours, however far back, brought into view, marked, and
// focused, so a screen reader reads it out.
async function openAtMessage(id, { pager, notice }) {
  const { row, failed, cancelled } = await pager.openAt(id);
  if (!row) {
    if (!failed && !cancelled) showNotice(notice, NOT_FOUND);
    return;
  }
  row.classList.add('message-found');
  row.tabIndex = -1;
  row.focus({ preventScroll: true });
  row.scrollIntoView({ block: 'center' });
}

function showNotice(el, text) {
  if (!el) return;
  el.textContent = text;
  setTimeout(() => {
    if (el.textContent === text) el.textContent = '';
  }, NOTICE_MS);
}

// On a phone the conversation gets the screen: who is online folds behind its summary.
const NARROW = '(max-width: 51.99rem)';

function foldPeopleOnNarrowScreens(panel) {
  if (panel && window.matchMedia(NARROW).matches) panel.open = false;
}

function sessionStore() {
  try {
    return window.sessionStorage;
  } catch {
    return null; // storage blocked
  }
}

function readHistory(el) {
  try {
    return el ? JSON.parse(el.textContent) : [];
  } catch {
    return [];
  }
}

function start(root, els) {
  const config = readConfig(root);
  // The welcome names us when the page could not (userId stays '' until then).
  const isOwn = (user) => Boolean(user) && config.userId !== '' && String(user.id) === config.userId;
  // A clock a little fast must not offer Edit the server then refuses.
  const editable = (msg) =>
    config.editWindow > 0 && Date.now() - new Date(msg.sent_at).getTime() < (config.editWindow - 5) * 1000;

  foldPeopleOnNarrowScreens(root.querySelector('.people-panel'));
  const status = new StatusBadge(root, els.state, config.loginUrl, els.retry);
  // Messages on their way when the page must reload keep their place across it.
  const keptMessages = sessionStore();
  // Per person: whoever signs in next in this tab never sends someone else's messages.
  const keptKey = `lets-talk:outbox:${config.userId}:${config.slug}`;
  const composer = new Composer(els, { draftKey: `lets-talk:draft:${config.slug}` });
  // Not in a direct room: both of its people are already in the conversation.
  const directForm = root.dataset.roomKind === 'direct' ? null : document.getElementById('direct-form');
  const people = new PeopleList(els.people, els.peopleCount, { isOwn, directForm });
  const jump = jumpToLatest(els.jump, () => pager.toLatest(), els.log);
  const messages = new MessageLog(
    els.log,
    { isOwn, myId: () => config.userId, moderator: config.moderator, editable },
    {
      onScrolled: (atBottom) => {
        jump.scrolled(atBottom);
        if (atBottom) reads.check();
      },
      onReplaced: () => actions.reset(),
    },
  );
  const typingLine = new TypingLine(els.typing);
  const pager = new HistoryPager({
    messages,
    messagesUrl: config.messagesUrl,
    status: els.historyStatus,
    hasMore: config.olderHistory,
    notice: (text) => showNotice(els.notice, text),
  });
  // The outbox, the event log and the actions work through the connection,
  // and its callbacks reach them; they first run after connect(), once all exist.
  const log = new EventLog({
    eventsUrl: config.eventsUrl,
    start: config.start,
    apply: (frame) => applyEvent(frame, parts),
    duplicate: (frame) => settleDuplicate(frame, { outbox, actions }),
    replace: (history) => {
      outbox.acknowledge(history);
      messages.replaceAll(history);
      reads.startOver();
      pager.reset(true);
      showNotice(els.notice, STARTED_OVER);
    },
  });
  const connection = new Connection({
    tokenUrl: config.tokenUrl,
    slug: config.slug,
    resumeFrom: () => log.resume || {},
    onState: (state) => {
      if (state !== 'connected') {
        log.interrupted();
        typingLine.clear();
      }
      status.show(state);
      outbox.connectionChanged();
    },
    onWelcome: (frame) => {
      if (frame.user && config.userId === '') config.userId = String(frame.user.id);
      people.replace(frame.users);
      messages.learnNames(frame.users || []);
      log.welcome(frame);
      outbox.flush();
      reads.check();
    },
    onFrame: (frame) => {
      if (ROOM_EVENTS.has(frame.type) && typeof frame.seq === 'number') log.receive(frame);
      else handleFrame(frame, parts);
    },
    onFinish: (state) => {
      log.stop();
      if (state === 'expired') {
        // The provider re-check is due: a page load runs it and comes back here.
        if (keptMessages) outbox.keepForReload(keptMessages, keptKey);
        window.location.reload();
        return;
      }
      outbox.clear();
      composer.setEnabled(false);
      status.show(state);
    },
  });
  const pending = new PendingList(els.pending, { onRetry: (clientId) => outbox.retry(clientId) });
  const outbox = new Outbox({
    composer,
    connection,
    maxLength: config.maxLength,
    onChange: (entries) => pending.show(entries),
  });
  if (keptMessages) outbox.restore(keptMessages, keptKey);
  const actions = new MessageActions({
    messages,
    connection,
    editable,
    showError: (text) => composer.showError(text),
  });
  new MentionCompletion({ composer, list: els.mentionList, peopleUrl: config.peopleUrl });
  const reads = new ReadTracker({
    messages,
    connection,
    currentSeq: () => log.seq,
    isOwn,
    readSeq: config.readSeq,
    onCount: (count) => jump.unread(count),
  });
  const typingSender = new TypingSender(connection);
  const announcer = new Announcer(els.announcer);
  const notifier = new MentionNotifier({
    button: els.notifyToggle,
    roomName: root.dataset.roomName || config.slug,
    myId: () => config.userId,
  });
  // Everything the frame handlers reach (they first run after connect()).
  const parts = {
    ...{ composer, connection, log, people, outbox, messages, pager },
    ...{ actions, reads, typingLine, announcer, notifier, isOwn },
  };

  messages.add(readHistory(els.history));
  messages.scrollToBottom();
  reads.markFirstUnread();
  const wanted = Number.parseInt(new URLSearchParams(window.location.search).get('message') || '', 10);
  if (wanted > 0) openAtMessage(wanted, { pager, notice: els.notice });
  else pager.check();
  composer.listen({
    onSubmit: () => {
      typingSender.sent();
      outbox.submit();
    },
    onEdit: () => {
      typingSender.typed(composer.text);
      outbox.draftEdited();
    },
  });
  if (!(wanted > 0)) composer.focus();
  // The network is back, or the person asked: skip the rest of the wait.
  window.addEventListener('online', () => connection.retryNow());
  if (els.retry) els.retry.addEventListener('click', () => connection.retryNow());
  connection.connect();
}

const root = document.getElementById('chat');
const els = root && {
  state: document.getElementById('connection-state'),
  log: document.getElementById('messages'),
  history: document.getElementById('room-history'),
  historyStatus: document.getElementById('history-status'),
  jump: document.getElementById('jump-latest'),
  pending: document.getElementById('pending'),
  people: document.getElementById('people'),
  peopleCount: document.getElementById('people-count'),
  form: document.getElementById('composer'),
  input: document.getElementById('message-input'),
  send: document.getElementById('send-button'),
  error: document.getElementById('composer-error'),
  notice: document.getElementById('log-notice'),
  mentionList: document.getElementById('mention-list'),
  typing: document.getElementById('typing'),
  retry: document.getElementById('retry-now'),
  announcer: document.getElementById('announcer'),
  notifyToggle: document.getElementById('notify-toggle'),
};

if (root && els.log && els.form && els.input && els.state) {
  start(root, els);
}
