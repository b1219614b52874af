// Older history, a page at a time: reaching the top of the log loads the
// page before the oldest message shown (/messages/?before=), until the
// server says there is none (has_more false). And the "Jump to latest"
// control, shown while the reader is scrolled up.

const PAGE = 50;
const NEAR_TOP_PX = 200;
const RETRY_MS = 5000;

export class HistoryPager {
  #messages;
  #url;
  #status;
  #hasMore;
  #loading = false;
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
    if (!this.#hasMore || this.#loading || Date.now() < this.#retryAt || !this.#url) return;
    if (log.scrollTop > NEAR_TOP_PX && log.scrollHeight > log.clientHeight) return;
    this.#load();
  }

  async #load() {
    const before = this.#messages.firstId;
    if (before === null) return;
    const generation = this.#generation;
    this.#loading = true;
    this.#say();
    const url = new URL(this.#url, window.location.origin);
    url.searchParams.set('before', String(before));
    url.searchParams.set('limit', String(PAGE));
    let page = null;
    try {
      const response = await fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
      if (response.ok) page = await response.json();
    } catch {
      page = null;
    }
    if (generation !== this.#generation) return;
    this.#loading = false;
    if (!page) {
      this.#retryAt = Date.now() + RETRY_MS;
      this.#status.textContent = 'Older messages could not be loaded; scroll up again to retry.';
      return;
    }
    this.#messages.addOlder(page.messages || []);
    this.#hasMore = page.has_more === true;
    this.#say();
    // A short page may leave the log without a scrollbar: keep going.
    requestAnimationFrame(() => this.#maybeLoad());
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
