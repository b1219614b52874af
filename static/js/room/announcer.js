// What a screen reader hears of the room, politely and once each: messages
// from the others as they arrive, and who joins or leaves. The log itself
// is not a live region: it would also read out every page of older
// history, every reaction and every catch-up after a reconnect.

// Announcements stay in the region a while (removals are not read out);
// only the last few are kept.
const KEPT = 5;
// More messages than this arriving together (a catch-up) are counted, not read one by one.
const BURST = 3;

export class Announcer {
  #region;
  #arrived = [];
  #flushing = false;

  // region: an element with aria-live="polite" and aria-relevant="additions".
  constructor(region) {
    this.#region = region;
  }

  // One line, read once: each is a new node, so the same words twice are heard twice.
  say(text) {
    if (!this.#region || !text) return;
    const line = document.createElement('p');
    line.textContent = text;
    this.#region.append(line);
    while (this.#region.childElementCount > KEPT) this.#region.firstElementChild.remove();
  }

  // A message someone else sent, new to this page.
  message(msg) {
    this.#arrived.push(msg);
    if (this.#flushing) return;
    this.#flushing = true;
    // Frames handled in one go (a replay, a page of events) are one announcement.
    setTimeout(() => this.#flush(), 0);
  }

  #flush() {
    const arrived = this.#arrived;
    this.#arrived = [];
    this.#flushing = false;
    if (arrived.length > BURST) {
      this.say(`${arrived.length} new messages`);
      return;
    }
    for (const msg of arrived) this.say(`${msg.user ? msg.user.name : 'Someone'}: ${msg.text}`);
  }
}
