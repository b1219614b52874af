// History beyond what the page opened with, a page at a time:
// - older: reaching the top of the log loads the page before the oldest
//   message shown (/messages/?before=), until the server says there is none
//   (has_more false);
// - a stretch around one message (a search result, /messages/?around=), when
//   it is not shown already: the log detaches from the latest, and reaching
//   its bottom loads newer pages (/messages/?after=) until it meets the latest;
// - the latest again (/messages/), when the reader jumps there from a stretch.
// And the "Jump to latest" control, shown while away from the latest.

const PAGE = 50;
const NEAR_EDGE_PX = 200;
const RETRY_MS = 5000;
const FETCH_TIMEOUT_MS = 10000;

const STRETCH_FAILED = 'That message could not be loaded; try again in a moment.';
const NEWER_FAILED = 'Newer messages could not be loaded; trying again shortly.';
const LATEST_FAILED = 'The latest messages could not be loaded; try again in a moment.';

export class HistoryPager {
  #messages;
  #url;
  #status;
  #notice;
  #hasMore;
  #loading = false;
  #retryAt = 0;
  // Bumped when the view starts over: a page asked for before then is dropped.
  #generation = 0;

  // status: the line above the log saying "Loading…", or where the room
  // began; notice(text): says what could not be loaded below the log.
  constructor({ messages, messagesUrl, status, hasMore, notice }) {
    this.#messages = messages;
    this.#url = messagesUrl;
    this.#status = status;
    this.#notice = notice || (() => {});
    this.#hasMore = hasMore;
    this.#say();
    messages.element.addEventListener('scroll', () => this.#maybeLoad(), { passive: true });
  }

  // The view started over (a fresh history): paging starts over too.
  reset(hasMore) {
    this.#startOver(hasMore);
    this.#maybeLoad();
  }

  // Load at once while the log does not fill its box (no scrollbar to reach the top with).
  check() {
    this.#maybeLoad();
  }

  // Message `id` shown, with the messages around it: { row } (null when the
  // room does not hold it: deleted since, say), { failed } when the server
  // could not be asked (the notice says so), { cancelled } when the view
  // started over or went to the latest meanwhile.
  async openAt(id) {
    const shown = this.#messages.get(id);
    if (shown || !this.#url) {
      this.#loadSoon();
      return { row: shown };
    }
    // What comes while the stretch is on its way waits below it, not above.
    this.#messages.detach();
    const answer = await this.#fetchInstead({ around: id, limit: PAGE });
    if (!answer) return { row: null, cancelled: true };
    const { page, status } = answer;
    if (page) {
      this.#messages.showStretch(page.messages || [], { newer: page.has_newer === true });
      this.#hasMore = page.has_more === true;
    } else {
      this.#messages.attach();
      if (status !== 404) this.#notice(STRETCH_FAILED);
    }
    this.#say();
    this.#loadSoon();
    return { row: this.#messages.get(id), failed: !page && status !== 404 };
  }

  // "Jump to latest": the newest messages in view, fetched first when a
  // stretch is shown. False when they could not be had (the notice says so).
  async toLatest() {
    if (!this.#messages.detached) {
      this.#messages.scrollToBottom();
      return true;
    }
    const answer = await this.#fetchInstead({ limit: PAGE });
    if (!answer) return false;
    const { page } = answer;
    if (page) {
      this.#messages.showLatest(page.messages || []);
      this.#hasMore = page.has_more === true;
    } else {
      this.#notice(LATEST_FAILED);
    }
    this.#say();
    this.#loadSoon();
    return Boolean(page);
  }

  // After the view changed by itself: a log without a scrollbar loads on.
  #loadSoon() {
    requestAnimationFrame(() => this.#maybeLoad());
  }

  // A page that could not be had is asked for again, even with no scroll to ask.
  #retryLater() {
    this.#retryAt = Date.now() + RETRY_MS;
    setTimeout(() => this.#maybeLoad(), RETRY_MS + 50);
  }

  #startOver(hasMore) {
    this.#generation += 1;
    this.#loading = false;
    this.#retryAt = 0;
    this.#hasMore = hasMore;
    this.#say();
  }

  #maybeLoad() {
    const log = this.#messages.element;
    if (this.#loading || Date.now() < this.#retryAt || !this.#url) return;
    const scrolls = log.scrollHeight > log.clientHeight;
    if (this.#hasMore && (log.scrollTop <= NEAR_EDGE_PX || !scrolls)) this.#loadOlder();
    else if (this.#messages.detached && (!scrolls || this.#nearEnd(log))) this.#loadNewer();
  }

  #nearEnd(log) {
    return log.scrollHeight - log.scrollTop - log.clientHeight <= NEAR_EDGE_PX;
  }

  // One page older than the oldest shown.
  async #loadOlder() {
    const before = this.#messages.firstId;
    if (before === null) return;
    const answer = await this.#fetchPage({ before, limit: PAGE }, { saying: true });
    if (!answer) return;
    const { page } = answer;
    if (!page) {
      this.#retryLater();
      this.#status.textContent = 'Older messages could not be loaded; trying again shortly.';
      return;
    }
    this.#messages.addOlder(page.messages || []);
    this.#hasMore = page.has_more === true;
    this.#say();
    this.#loadSoon(); // a short page may leave the log without a scrollbar
  }

  // One page newer than the newest shown of a stretch; the last one meets the latest.
  async #loadNewer() {
    const after = this.#messages.lastId;
    if (!after) {
      this.toLatest(); // nothing shown to read on from (its messages were deleted meanwhile)
      return;
    }
    const answer = await this.#fetchPage({ after, limit: PAGE });
    if (!answer) return;
    const { page } = answer;
    if (!page) {
      this.#retryLater();
      this.#notice(NEWER_FAILED);
      return;
    }
    this.#messages.addNewer(page.messages || [], { newer: page.has_newer === true });
    this.#loadSoon();
  }

  // A page to show instead of what is shown: paging starts over first.
  // Null when the view started over again meanwhile.
  async #fetchInstead(params) {
    this.#startOver(this.#hasMore);
    return this.#fetchPage(params);
  }

  // A page fetched while the pager says it is loading (saying: in the status
  // line above the log): { page, status }, or null when the view started over
  // meanwhile and the page is no longer wanted.
  async #fetchPage(params, { saying = false } = {}) {
    const generation = this.#generation;
    this.#loading = true;
    if (saying) this.#say();
    const answer = await this.#fetch(params);
    if (generation !== this.#generation) return null;
    this.#loading = false;
    return answer;
  }

  // A page of /messages/ with these parameters: { page } when it came, { status } when not.
  async #fetch(params) {
    const url = new URL(this.#url, window.location.origin);
    for (const [key, value] of Object.entries(params)) url.searchParams.set(key, String(value));
    try {
      const response = await fetch(url, {
        credentials: 'same-origin',
        headers: { Accept: 'application/json' },
        signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
      });
      if (!response.ok) return { page: null, status: response.status };
      return { page: await response.json(), status: response.status };
    } catch {
      return { page: null, status: 0 };
    }
  }

  #say() {
    if (this.#loading) this.#status.textContent = 'Loading older messages…';
    else this.#status.textContent = this.#hasMore ? '' : 'This is the beginning of the room.';
  }
}

// "Jump to latest" ("3 new messages ↓" when some came meanwhile): visible
// while away from the latest, brings it into view with toLatest()
// (HistoryPager's), and the keyboard's focus to the log, as the control
// hides. Returns what to call with each scroll (whether the reader is at
// the latest) and with each unread count.
export function jumpToLatest(button, toLatest, log) {
  button.hidden = true;
  button.addEventListener('click', async () => {
    const focused = document.activeElement === button;
    const arrived = await toLatest();
    // Hidden, the control dropped the focus (to the page's start), unless the reader moved it meanwhile.
    const dropped = document.activeElement === button || document.activeElement === document.body;
    if (arrived && focused && dropped) log.focus({ preventScroll: true });
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
