// Older history, a page at a time: reaching the top of the log loads the
// page before the oldest message shown (/messages/?before=), until the
// server says there is none (has_more false). And the "Jump to latest"
// control, shown while the reader is scrolled up.

const PAGE = 50;
// Reaching back for one message (a search result) goes a server page at a time, and so far at most.
const REACH_PAGE = 100;
export const REACH_MAX = 5000;
const NEAR_TOP_PX = 200;
const RETRY_MS = 5000;

export class HistoryPager {
  #messages;
  #url;
  #status;
  #hasMore;
  #loading = false;
  // While reach() pages back, the scroll-driven loading waits.
  #reaching = false;
  #retryAt = 0;
  // Bumped when the view starts over: a page asked for before then is dropped.
  #generation = 0;

  // status: the line above the log saying "Loading…", or where the room began.
  constructor({ messages, messagesUrl, status, hasMore }) {
    this.#messages = messages;
    this.#url = messagesUrl;
    this.#status = status;
    this.#hasMore = hasMore;
    this.#say();
    messages.element.addEventListener('scroll', () => this.#maybeLoad(), { passive: true });
  }

  // The view started over (a fresh history): paging starts over too.
  reset(hasMore) {
    this.#generation += 1;
    this.#loading = false;
    this.#hasMore = hasMore;
    this.#say();
    this.#maybeLoad();
  }

  // Load at once while the log does not fill its box (no scrollbar to reach the top with).
  check() {
    this.#maybeLoad();
  }

  #maybeLoad() {
    const log = this.#messages.element;
    if (!this.#hasMore || this.#loading || this.#reaching || Date.now() < this.#retryAt || !this.#url) return;
    if (log.scrollTop > NEAR_TOP_PX && log.scrollHeight > log.clientHeight) return;
    this.#load();
  }

  // Page back until message `id` is shown (or the room's start, or REACH_MAX
  // messages further back): its row, or null.
  async reach(id) {
    let pages = 0;
    this.#reaching = true;
    try {
      while (!this.#messages.get(id) && this.#hasMore && pages < REACH_MAX / REACH_PAGE) {
        const firstBefore = this.#messages.firstId;
        if (firstBefore !== null && firstBefore < id) break; // it would be shown by now: it is gone
        pages += 1;
        if (!(await this.#load(REACH_PAGE))) break;
      }
    } finally {
      this.#reaching = false;
    }
    return this.#messages.get(id);
  }

  // One page older than the oldest shown; false if it could not be had.
  async #load(limit = PAGE) {
    const before = this.#messages.firstId;
    if (before === null) return false;
    const generation = this.#generation;
    this.#loading = true;
    this.#say();
    const url = new URL(this.#url, window.location.origin);
    url.searchParams.set('before', String(before));
    url.searchParams.set('limit', String(limit));
    let page = null;
    try {
      const response = await fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
      if (response.ok) page = await response.json();
    } catch {
      page = null;
    }
    if (generation !== this.#generation) return false;
    this.#loading = false;
    if (!page) {
      this.#retryAt = Date.now() + RETRY_MS;
      this.#status.textContent = 'Older messages could not be loaded; scroll up again to retry.';
      return false;
    }
    this.#messages.addOlder(page.messages || []);
    this.#hasMore = page.has_more === true;
    this.#say();
    // A short page may leave the log without a scrollbar: keep going.
    requestAnimationFrame(() => this.#maybeLoad());
    return true;
  }

  #say() {
    if (this.#loading) this.#status.textContent = 'Loading older messages…';
    else this.#status.textContent = this.#hasMore ? '' : 'This is the beginning of the room.';
  }
}

// "Jump to latest" ("3 new messages ↓" when some came meanwhile): visible
// while scrolled up, brings the newest into view. Returns what to call with
// each scroll (whether the reader is at the bottom) and with each unread count.
export function jumpToLatest(button, messages) {
  button.hidden = true;
  button.addEventListener('click', () => {
    messages.scrollToBottom();
    button.hidden = true;
  });
  return {
    scrolled: (atBottom) => {
      button.hidden = atBottom;
    },
    unread: (count) => {
      button.textContent = count > 0 ? `${count} new ${count === 1 ? 'message' : 'messages'} ↓` : 'Jump to latest ↓';
    },
  };
}
