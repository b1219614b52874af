// What this person has not read yet in the room: the "New messages" line at
// the first unread message on entry, the count in the tab's title and on
// the jump control while scrolled up, and telling the server how far they
// have read ({"type": "read", "seq"}) whenever the newest messages are on
// screen in a visible tab.

const REPORT_EVERY_MS = 1000;

export class ReadTracker {
  #messages;
  #connection;
  #currentSeq; // () -> the last room event the page applied
  #isOwn;
  #title;
  #onCount;
  #readSeq; // what the server knows this person has read
  #unread = 0;
  #timer = null;
  #lastReport = 0;

  // readSeq: from the page (null: unknown). onCount(n) hears every change.
  constructor({ messages, connection, currentSeq, isOwn, readSeq, onCount }) {
    this.#messages = messages;
    this.#connection = connection;
    this.#currentSeq = currentSeq;
    this.#isOwn = isOwn;
    this.#readSeq = Number.isInteger(readSeq) ? readSeq : null;
    this.#title = document.title;
    this.#onCount = onCount || (() => {});
    document.addEventListener('visibilitychange', () => this.check());
    messages.element.addEventListener('scroll', () => this.check(), { passive: true });
  }

  // On entry: the first message by someone else after what was read gets the
  // "New messages" line, and the log opens there. Returns whether it did.
  markFirstUnread() {
    if (this.#readSeq === null) return false;
    const unread = Array.from(this.#messages.element.querySelectorAll('li.message')).filter(
      (li) => Number(li.dataset.seq) > this.#readSeq && !this.#isOwn({ id: li.dataset.userId }),
    );
    this.#unread += unread.length;
    const first = unread[0];
    this.#show();
    if (!first) return false;
    const line = document.createElement('p');
    line.className = 'unread-divider';
    line.textContent = 'New messages';
    first.prepend(line);
    first.scrollIntoView({ block: 'start' });
    return true;
  }

  // A message new to the page entered the log.
  arrived(msg) {
    if (!this.#isOwn(msg.user) && (this.#readSeq === null || msg.seq > this.#readSeq)) {
      this.#unread += 1;
      this.#show();
    }
    // After the event log has moved to this message's seq (it applies first).
    queueMicrotask(() => this.check());
  }

  // The view started over (another epoch, or too far behind): seqs known so
  // far may mean nothing now, and what it shows is the room as it stands.
  startOver() {
    const seq = this.#currentSeq();
    if (this.#readSeq !== null && seq !== null && this.#readSeq > seq) this.#readSeq = seq;
    this.#unread = 0;
    this.#show();
    queueMicrotask(() => this.check());
  }

  // The server says this person has read up to `seq` (another tab, maybe).
  readElsewhere(seq) {
    if (this.#readSeq !== null && seq <= this.#readSeq) return;
    this.#readSeq = seq;
    if (seq >= this.#currentSeq()) {
      this.#unread = 0;
      this.#show();
    }
  }

  // Visible and at the newest messages: everything is read; say so (throttled).
  check() {
    if (document.hidden || !this.#messages.isNearBottom()) return;
    const seq = this.#currentSeq();
    if (this.#unread > 0) {
      this.#unread = 0;
      this.#show();
    }
    if (seq === null || (this.#readSeq !== null && seq <= this.#readSeq)) return;
    if (this.#timer !== null) return;
    const wait = Math.max(0, this.#lastReport + REPORT_EVERY_MS - Date.now());
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#report();
    }, wait);
  }

  get unread() {
    return this.#unread;
  }

  #report() {
    const seq = this.#currentSeq();
    if (seq === null || !this.#connection.open || document.hidden || !this.#messages.isNearBottom()) return;
    if (this.#readSeq !== null && seq <= this.#readSeq) return;
    this.#connection.send({ type: 'read', seq });
    this.#lastReport = Date.now();
    this.#readSeq = seq;
  }

  #show() {
    document.title = this.#unread > 0 ? `(${this.#unread}) ${this.#title}` : this.#title;
    this.#onCount(this.#unread);
  }
}
