// The message log (#messages), kept sorted by message id. Consecutive
// messages of one author within a few minutes are grouped under one name
// and time; the first message of each day carries that day's heading.
// Older pages are added at the top without moving what the reader sees.
//
// Opened at a message far back (a search result), the log shows a stretch
// around it, detached from the latest: messages that come meanwhile wait
// aside (a row below the stretch would sit past a gap) until paging forward
// reaches the latest, or the reader jumps there.

import { dayKey, dayLabel, parseDate } from './dates.js';
import { buildRow, updateReactions, updateText } from './messagerow.js';

const NEAR_BOTTOM_PX = 80;
const GROUP_GAP_MS = 5 * 60 * 1000;
// Messages kept aside while detached; past it the newest go, as the pages
// forward (or the latest page) read them from the server.
const WAITING_MAX = 500;
// Changes to messages not shown (edits, reactions, deletions), kept for a
// page on its way that may hold them as they were: the latest so many.
const CHANGES_MAX = 500;

export class MessageLog {
  #pinned = true; // at the latest message, as of the last scroll
  #log;
  #ctx;
  #byId = new Map(); // id -> <li>
  #names = new Map(); // user id -> name, for who reacted
  #lastId = 0;
  #onScrolled;
  // While detached: id -> message that came after the stretch; null when attached.
  #waiting = null;
  // The highest id ever shown; #edge: what it was when the log detached.
  #newestShown = 0;
  #edge = 0;
  // id -> the latest the room's events said of a message (text, reactions,
  // or deleted): laid over a page on its way that read it before.
  #changes = new Map();
  #onReplaced;

  // ctx: { isOwn(user), myId(), moderator, editable(msg) }; onScrolled(atBottom)
  // hears every scroll and every change of whether the latest is in view
  // (the jump-to-latest control follows it); onReplaced() hears that every
  // row shown went (open editors go with them).
  constructor(log, ctx, { onScrolled, onReplaced } = {}) {
    this.#log = log;
    this.#ctx = { ...ctx, nameOf: (id) => this.#names.get(String(id)) || 'someone' };
    this.#onScrolled = onScrolled || (() => {});
    this.#onReplaced = onReplaced || (() => {});
    log.addEventListener('scroll', () => this.#scrolled(), { passive: true });
    // The log shrinks when the on-screen keyboard opens (or the page's layout
    // settles): a reader at the latest message stays at it.
    new ResizeObserver(() => {
      if (this.#pinned) this.scrollToBottom();
    }).observe(log);
    this.#relabelDaysAtMidnight();
  }

  #scrolled() {
    this.#pinned = this.isNearBottom();
    this.#onScrolled(this.#pinned);
  }

  // "Today" becomes "Yesterday" at the reader's midnight, for a page left open.
  #relabelDaysAtMidnight() {
    const now = new Date();
    const midnight = new Date(now.getFullYear(), now.getMonth(), now.getDate() + 1, 0, 0, 5);
    setTimeout(() => {
      for (const heading of this.#log.querySelectorAll('.day-divider')) {
        const date = parseDate(heading.closest('li.message').dataset.sentAt);
        if (date) heading.textContent = dayLabel(date);
      }
      this.#relabelDaysAtMidnight();
    }, midnight - now);
  }

  get element() {
    return this.#log;
  }

  // The highest message id shown: where paging forward continues from.
  get lastId() {
    return this.#lastId;
  }

  // The lowest id shown: where paging back continues from.
  get firstId() {
    const first = this.#log.querySelector('li.message');
    return first ? Number(first.dataset.id) : null;
  }

  get(id) {
    return this.#byId.get(Number(id)) || null;
  }

  // Shown, waiting aside, or (while detached) no newer than what was shown
  // when the log detached: a message replayed whole because it changed is no news.
  knows(id) {
    const key = Number(id);
    if (this.#byId.has(key)) return true;
    return this.#waiting !== null && (this.#waiting.has(key) || key <= this.#edge);
  }

  // Showing an older stretch: the latest messages are not below it.
  get detached() {
    return this.#waiting !== null;
  }

  // People seen (roster, authors): names for the reactions' labels.
  learnNames(users) {
    for (const user of users) if (user && user.id !== undefined) this.#names.set(String(user.id), user.name);
  }

  // New or changed messages, as the room's events have them now (a replay
  // sends a changed message whole). One older than every message shown is
  // left for paging back to bring: shown now, it would sit above a gap that
  // paging would then skip.
  add(list) {
    const stick = this.isNearBottom();
    let ownAdded = false;
    for (const msg of list) {
      const first = this.firstId;
      const id = Number(msg.id);
      if (first !== null && id < first && !this.#byId.has(id)) {
        // Older than the top: a page on its way may bring it as it was.
        this.#changed(id, { text: msg.text, edited_at: msg.edited_at, reactions: msg.reactions });
        continue;
      }
      this.#changes.delete(id); // older than this
      if (this.#byId.has(id)) this.#update(msg);
      else if (this.#waiting && id > this.#lastId) this.#wait(id, msg);
      else if (this.#insert(msg) && this.#ctx.isOwn(msg.user)) ownAdded = true;
    }
    // Only follow new messages if the reader was already at the bottom (or
    // just sent one), so scrolling back through history is never interrupted.
    if (stick || ownAdded) this.scrollToBottom();
  }

  // An older page (oldest first), above what is shown: the reader's view
  // stays where it was, and a screen reader is not read the whole page.
  addOlder(list) {
    const first = this.#log.querySelector('li.message');
    const firstId = first ? Number(first.dataset.id) : Infinity;
    const rows = [];
    for (const msg of list) {
      const id = Number(msg.id);
      if (!Number.isFinite(id) || id >= firstId || this.#byId.has(id)) continue;
      const li = this.#row(id, msg);
      if (li) rows.push(li);
    }
    if (rows.length === 0) return;
    const fromBottom = this.#log.scrollHeight - this.#log.scrollTop;
    this.#log.setAttribute('aria-busy', 'true');
    if (first) first.before(...rows);
    else this.#log.append(...rows);
    for (const li of rows) this.#decorate(li);
    if (first) this.#decorate(first);
    this.#log.scrollTop = this.#log.scrollHeight - fromBottom;
    this.#log.removeAttribute('aria-busy');
  }

  // A newer page (oldest first), below the stretch shown; `newer`: the room
  // has more after it. The last page attaches the log to the latest again.
  addNewer(list, { newer }) {
    this.#log.setAttribute('aria-busy', 'true');
    for (const msg of list) if (Number(msg.id) > this.#lastId) this.#insert(msg);
    this.#log.removeAttribute('aria-busy');
    if (!newer) {
      this.#attach();
      this.#scrolled();
    }
  }

  // Start over from `list` (the log could not say what was missed): the latest, attached.
  replaceAll(list) {
    this.#waiting = null;
    this.#changes.clear(); // what the log said before may be missing its latest word
    this.#showOnly(list);
    this.scrollToBottom();
    this.#scrolled();
  }

  // The latest page, fetched while detached: what came meanwhile joins it.
  showLatest(list) {
    this.#showOnly(list);
    this.#attach();
    this.scrollToBottom();
    this.#scrolled();
  }

  // A stretch of the room (oldest first), in place of what is shown. With
  // `newer`, the latest messages are past it: the log stays detached.
  // The caller brings a row into view, which says where the reader is.
  showStretch(list, { newer }) {
    this.#showOnly(list);
    if (newer) this.#scrolled();
    else this.#attach();
  }

  // Away from the latest from now on (a stretch is on its way): what comes meanwhile waits aside.
  detach() {
    if (this.#waiting === null) {
      this.#waiting = new Map();
      this.#edge = this.#newestShown;
    }
    this.#scrolled();
  }

  // Back at the latest after all (the stretch could not be had).
  attach() {
    this.#attach();
    this.#scrolled();
  }

  // Only `list` shown; what waits aside keeps waiting.
  #showOnly(list) {
    // Focus in a row that goes (the found message, an editor) would fall to the page's start.
    const hadFocus = this.#log.contains(document.activeElement) && document.activeElement !== this.#log;
    this.#log.setAttribute('aria-busy', 'true');
    for (const li of this.#byId.values()) li.remove();
    this.#byId.clear();
    this.#lastId = 0;
    this.#onReplaced();
    for (const msg of list) this.#insert(msg);
    this.#log.removeAttribute('aria-busy');
    if (hadFocus) this.#log.focus({ preventScroll: true });
  }

  // The first to come goes first past WAITING_MAX: a later page holds it, or it sits below the latest page's top.
  #wait(id, msg) {
    this.#waiting.set(id, msg);
    if (this.#waiting.size > WAITING_MAX) this.#waiting.delete(this.#waiting.keys().next().value);
  }

  // The latest is below the last row now: what waited aside joins it. The
  // room's events kept each waiting message as it stands (edited, reacted
  // to, or dropped when deleted), and one the page has already is only
  // updated: ids are not committed in order, so a page may hold a later id
  // and miss an earlier one that then came live.
  #attach() {
    const waiting = this.#waiting ? [...this.#waiting.values()] : [];
    this.#waiting = null;
    this.add(waiting);
  }

  // Each change is kept too, shown or not: a page on its way (paging, a
  // stretch, the latest) may have read the message before it.
  edited(frame) {
    this.#changed(frame.id, { text: frame.text, edited_at: frame.edited_at, mentions: frame.mentions });
    const li = this.get(frame.id);
    if (li) updateText(li, frame, this.#ctx);
  }

  reactions(frame) {
    this.#changed(frame.id, { reactions: frame.reactions || [] });
    const li = this.get(frame.id);
    if (li) updateReactions(li, frame.reactions || [], this.#ctx);
  }

  // What the room's events said of a message: on its waiting copy, and
  // kept (the latest CHANGES_MAX messages) for rows built from pages.
  #changed(id, changes) {
    const key = Number(id);
    const known = { ...this.#changes.get(key) };
    for (const [field, value] of Object.entries(changes)) if (value !== undefined) known[field] = value;
    this.#changes.delete(key);
    this.#changes.set(key, known);
    if (this.#changes.size > CHANGES_MAX) this.#changes.delete(this.#changes.keys().next().value);
    const waiting = this.#waiting && this.#waiting.get(key);
    if (waiting) Object.assign(waiting, known);
  }

  remove(id) {
    if (this.#waiting) this.#waiting.delete(Number(id));
    this.#changed(id, { deleted: true });
    const li = this.get(id);
    if (!li) return;
    const next = this.#nextRow(li);
    // Focus in the row (its Delete, say) would fall to the page's start.
    const hadFocus = li.contains(document.activeElement);
    li.remove();
    this.#byId.delete(Number(id));
    if (next) this.#decorate(next);
    if (hadFocus) this.#log.focus();
  }

  // At the latest message: never while detached, however far down the stretch.
  isNearBottom() {
    return !this.#waiting && this.#isNearEnd();
  }

  // At the last row shown.
  #isNearEnd() {
    const { scrollHeight, scrollTop, clientHeight } = this.#log;
    return scrollHeight - scrollTop - clientHeight < NEAR_BOTTOM_PX;
  }

  scrollToBottom() {
    this.#log.scrollTop = this.#log.scrollHeight;
  }

  #update(msg) {
    const li = this.get(msg.id);
    updateText(li, msg, this.#ctx);
    updateReactions(li, msg.reactions || [], this.#ctx);
  }

  // A new row for a message, known by id from now on (the caller places
  // it); null for one deleted since the page that brought it was read.
  #row(id, msg) {
    const changes = this.#changes.get(id);
    if (changes && changes.deleted) return null;
    const shown = changes ? { ...msg, ...changes } : msg;
    if (shown.user) this.learnNames([shown.user]);
    const li = buildRow(shown, this.#ctx);
    this.#byId.set(id, li);
    if (this.#waiting) this.#waiting.delete(id); // the row is the message now
    if (id > this.#lastId) this.#lastId = id;
    if (id > this.#newestShown) this.#newestShown = id;
    return li;
  }

  // Insert a message keeping the list sorted by id. Returns true if inserted.
  #insert(msg) {
    const id = Number(msg.id);
    if (!Number.isFinite(id) || this.#byId.has(id)) return false;
    const li = this.#row(id, msg);
    if (!li) return false;
    const first = this.#log.querySelector('li.message');
    if (!first) {
      this.#log.append(li);
    } else if (id < Number(first.dataset.id)) {
      first.before(li);
    } else {
      // New messages nearly always belong at the end, so walk backwards.
      let after = this.#log.lastElementChild;
      while (after && !(after.classList.contains('message') && Number(after.dataset.id) < id)) {
        after = after.previousElementSibling;
      }
      after.after(li);
    }
    this.#decorate(li);
    const next = this.#nextRow(li);
    if (next) this.#decorate(next);
    return true;
  }

  #nextRow(li) {
    let next = li.nextElementSibling;
    while (next && !next.classList.contains('message')) next = next.nextElementSibling;
    return next;
  }

  #previousRow(li) {
    let previous = li.previousElementSibling;
    while (previous && !previous.classList.contains('message')) previous = previous.previousElementSibling;
    return previous;
  }

  // The day heading before the first message of a day; grouping under the
  // previous message when the same person wrote it a moment before.
  #decorate(li) {
    const date = parseDate(li.dataset.sentAt);
    const previous = this.#previousRow(li);
    const previousDate = previous ? parseDate(previous.dataset.sentAt) : null;
    const day = date ? dayKey(date) : '';
    const newDay = !previousDate || !date || dayKey(previousDate) !== day;
    let heading = li.querySelector(':scope > .day-divider');
    if (newDay && date) {
      if (!heading) {
        heading = document.createElement('h2');
        heading.className = 'day-divider';
        li.prepend(heading);
      }
      heading.textContent = dayLabel(date);
    } else if (heading) {
      heading.remove();
    }
    const continued =
      !newDay &&
      previous !== null &&
      previous.dataset.userId === li.dataset.userId &&
      date - previousDate < GROUP_GAP_MS;
    li.classList.toggle('continued', continued);
  }
}
