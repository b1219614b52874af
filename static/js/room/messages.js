// The message log (#messages), kept sorted by message id. Consecutive
// messages of one author within a few minutes are grouped under one name
// and time; the first message of each day carries that day's heading.
// Older pages are added at the top without moving what the reader sees.

import { dayKey, dayLabel, parseDate } from './dates.js';
import { buildRow, updateReactions, updateText } from './messagerow.js';

const NEAR_BOTTOM_PX = 80;
const GROUP_GAP_MS = 5 * 60 * 1000;

export class MessageLog {
  #pinned = true; // at the latest message, as of the last scroll
  #log;
  #ctx;
  #byId = new Map(); // id -> <li>
  #names = new Map(); // user id -> name, for who reacted
  #lastId = 0;
  #onScrolled;

  // ctx: { isOwn(user), myId(), moderator, editable(msg) }; onScrolled(atBottom)
  // hears every scroll (the jump-to-latest control follows it).
  constructor(log, ctx, { onScrolled } = {}) {
    this.#log = log;
    this.#ctx = { ...ctx, nameOf: (id) => this.#names.get(String(id)) || 'someone' };
    this.#onScrolled = onScrolled || (() => {});
    log.addEventListener(
      'scroll',
      () => {
        this.#pinned = this.isNearBottom();
        this.#onScrolled(this.#pinned);
      },
      { passive: true },
    );
    // The log shrinks when the on-screen keyboard opens (or the page's layout
    // settles): a reader at the latest message stays at it.
    new ResizeObserver(() => {
      if (this.#pinned) this.scrollToBottom();
    }).observe(log);
    this.#relabelDaysAtMidnight();
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

  // The highest message id shown: where a reconnect resumes.
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

  // People seen (roster, authors): names for the reactions' labels.
  learnNames(users) {
    for (const user of users) if (user && user.id !== undefined) this.#names.set(String(user.id), user.name);
  }

  // New or changed messages (a replay sends a changed message whole). One
  // older than every message shown is left for paging back to bring: shown
  // now, it would sit above a gap that paging would then skip.
  add(list) {
    const stick = this.isNearBottom();
    let ownAdded = false;
    for (const msg of list) {
      const first = this.firstId;
      if (this.#byId.has(Number(msg.id))) this.#update(msg);
      else if (first !== null && Number(msg.id) < first) continue;
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
      rows.push(this.#row(id, msg));
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

  // Start over from `list` (the log could not say what was missed).
  replaceAll(list) {
    this.#log.setAttribute('aria-busy', 'true');
    for (const li of this.#byId.values()) li.remove();
    this.#byId.clear();
    this.#lastId = 0;
    this.add(list);
    this.scrollToBottom();
    this.#log.removeAttribute('aria-busy');
  }

  edited(frame) {
    const li = this.get(frame.id);
    if (li) updateText(li, frame, this.#ctx);
  }

  reactions(frame) {
    const li = this.get(frame.id);
    if (li) updateReactions(li, frame.reactions || [], this.#ctx);
  }

  remove(id) {
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

  isNearBottom() {
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

  // A new row for a message, known by id from now on (the caller places it).
  #row(id, msg) {
    if (msg.user) this.learnNames([msg.user]);
    const li = buildRow(msg, this.#ctx);
    this.#byId.set(id, li);
    if (id > this.#lastId) this.#lastId = id;
    return li;
  }

  // Insert a message keeping the list sorted by id. Returns true if inserted.
  #insert(msg) {
    const id = Number(msg.id);
    if (!Number.isFinite(id) || this.#byId.has(id)) return false;
    const li = this.#row(id, msg);
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
