// Messages on their way out: sent (or queued while offline) until the server
// echoes them back. The server stores a client_id once, so re-sending after a
// reconnect never duplicates a message. One the server refuses as sent too
// fast waits, with every message typed after it, and they go out one by one,
// in order, once the server's retry_after has passed: nothing typed is lost.

import { ERROR } from './protocol.js';

// Error frames that refuse the message itself (not a malformed frame).
const REFUSALS = new Set([ERROR.EMPTY, ERROR.TOO_LONG, ERROR.RATE_LIMITED, ERROR.MUTED]);
// When a rate-limited refusal does not say (an older server): try again after this.
const DEFAULT_RETRY_MS = 2000;
// A message sent on an open socket and not echoed this long after shows as
// failed, with a Retry (the same client_id: never stored twice).
const ECHO_TIMEOUT_MS = 8000;

function newClientId() {
  if (window.crypto && typeof crypto.randomUUID === 'function') {
    return crypto.randomUUID();
  }
  // randomUUID needs a secure context; plain http on a LAN address lacks it.
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

// What keepForReload kept is taken back by the reload right after, or never.
const KEPT_FOR_MS = 10 * 60 * 1000;

export class Outbox {
  #composer;
  #connection;
  #maxLength;
  // Messages sent but not yet echoed back, keyed by client_id (insertion order
  // is send order). Re-sent after a reconnect; the server dedupes by client_id.
  #pending = new Map();
  // A message queued while offline whose text is still in the textarea, so we
  // can clear the box once it has actually been sent.
  #queuedDraft = null;
  // client_ids refused as too fast, and every one typed after them, in order:
  // the first goes out when #retryTimer fires, the next once it is stored.
  #waiting = [];
  #retryTimer = null;
  // The waiting message sent last, until it is stored: only then the next goes.
  #lineHead = null;
  // client_id -> when it last went out on an open socket.
  #sentAt = new Map();
  #echoTimer = null;
  #onChange;

  // onChange(entries) hears every change to what is pending, as
  // [{ clientId, text, state }] in the order typed; state is 'sending',
  // 'waiting' (too fast), 'offline' (goes out once connected) or 'failed'.
  constructor({ composer, connection, maxLength, onChange }) {
    this.#composer = composer;
    this.#connection = connection;
    this.#maxLength = maxLength;
    this.#onChange = onChange || (() => {});
  }

  get entries() {
    const inLine = new Set(this.#waiting);
    const now = Date.now();
    return Array.from(this.#pending, ([clientId, text]) => {
      let state = 'sending';
      if (inLine.has(clientId)) state = 'waiting';
      else if (!this.#connection.open || !this.#sentAt.has(clientId)) state = 'offline';
      else if (now - this.#sentAt.get(clientId) >= ECHO_TIMEOUT_MS) state = 'failed';
      return { clientId, text, state };
    });
  }

  // Send a failed (never echoed) message again, under its own client_id.
  retry(clientId) {
    if (!this.#pending.has(clientId) || !this.#connection.open) return;
    this.#send(clientId);
  }

  // The connection came or went: what is pending reads differently.
  connectionChanged() {
    this.#changed();
  }

  submit() {
    if (this.#connection.terminal) return;
    const text = this.#composer.text;
    if (!text) return;
    if (this.#maxLength && text.length > this.#maxLength) {
      this.#composer.showError(`Messages can be at most ${this.#maxLength} characters.`);
      return;
    }

    if (!this.#connection.open) {
      // Keep the text visible and queue it; it goes out after the next welcome.
      // Re-submitting the same text reuses the same client_id (no duplicates).
      if (!this.#queuedDraft || this.#queuedDraft.text !== text) {
        if (this.#queuedDraft) this.#pending.delete(this.#queuedDraft.clientId);
        this.#queuedDraft = { clientId: newClientId(), text };
        this.#pending.set(this.#queuedDraft.clientId, text);
      }
      this.#composer.showError('Not connected — your message will be sent when the connection is back');
      this.#changed();
      return;
    }

    const clientId = newClientId();
    this.#pending.set(clientId, text);
    if (this.#waiting.length > 0 || this.#lineHead !== null) {
      // Behind the ones waiting for the rate limit: it must not overtake them.
      this.#waiting.push(clientId);
      this.#sayWaiting();
    } else {
      this.#composer.showError('');
      this.#send(clientId);
    }
    this.#composer.clear();
    this.#composer.focus();
    this.#changed();
  }

  // After a welcome: everything still pending goes out again (the waiting
  // ones in their turn).
  flush() {
    this.#sentAt.clear();
    const inLine = new Set(this.#waiting);
    if (this.#lineHead !== null) inLine.add(this.#lineHead);
    for (const [clientId, text] of this.#pending) {
      if (!inLine.has(clientId)) this.#transmit(clientId, text);
    }
    if (this.#lineHead !== null) this.#transmit(this.#lineHead, this.#pending.get(this.#lineHead));
    else if (this.#waiting.length > 0 && this.#retryTimer === null) this.#sendNextWaiting();
    if (this.#queuedDraft) {
      // The queued text has now gone out; take it out of the box unless the
      // user has started typing something else.
      if (this.#composer.text === this.#queuedDraft.text) this.#composer.clear();
      this.#queuedDraft = null;
      this.#composer.showError('');
    }
    this.#changed();
  }

  // The echo of our own message carries our client_id: it is delivered.
  // Whether this page sent the message with this client_id and waits for it to be stored.
  isPending(clientId) {
    return Boolean(clientId) && this.#pending.has(clientId);
  }

  acknowledge(messages) {
    for (const msg of messages) this.settle(msg.client_id);
  }

  // Stored (or, retried after a moderator deleted it, settled): stop
  // re-sending it; the next waiting message may go.
  settle(clientId) {
    if (!clientId || !this.#pending.has(clientId)) return;
    this.#pending.delete(clientId);
    this.#sentAt.delete(clientId);
    if (clientId === this.#lineHead) {
      this.#lineHead = null;
      this.#sendNextWaiting();
    }
    this.#changed();
  }

  // An error frame names the refused message (older servers did not: then the
  // most recently sent one is the likeliest). Too fast: it waits and goes out
  // again by itself. Refused for good: its text comes back to the box, in
  // front of anything typed since, so nothing is lost.
  refused(frame) {
    if (!REFUSALS.has(frame.code)) return;
    const entries = Array.from(this.#pending.keys());
    // Older servers named none: then the most recently sent is the likeliest.
    const clientId = frame.client_id ? frame.client_id : entries[entries.length - 1];
    if (!clientId || !this.#pending.has(clientId)) return;
    if (frame.code === ERROR.RATE_LIMITED) {
      this.#wait(clientId, frame.retry_after);
      this.#changed();
      return;
    }
    const text = this.#pending.get(clientId);
    this.#pending.delete(clientId);
    this.#sentAt.delete(clientId);
    this.#waiting = this.#waiting.filter((id) => id !== clientId);
    if (clientId === this.#lineHead) {
      // The line moves on past a message refused for good.
      this.#lineHead = null;
      if (this.#retryTimer === null) this.#sendNextWaiting();
    }
    if (this.#queuedDraft && this.#queuedDraft.clientId === clientId) this.#queuedDraft = null;
    const typed = this.#composer.text;
    this.#composer.fill(typed && typed !== text ? `${text}\n${typed}` : text);
    this.#changed();
  }

  // Editing a queued draft withdraws it: the box is the source of truth
  // until the user submits again.
  draftEdited() {
    if (this.#queuedDraft && this.#composer.text !== this.#queuedDraft.text) {
      this.#pending.delete(this.#queuedDraft.clientId);
      this.#queuedDraft = null;
      this.#changed();
    }
  }

  // Before the page reloads (a provider re-check): what is not yet stored
  // survives it in `store`, to go out again under the same client_ids (the
  // server stores each once).
  keepForReload(store, key) {
    if (this.#pending.size === 0) return;
    try {
      store.setItem(key, JSON.stringify({ at: Date.now(), entries: Array.from(this.#pending) }));
    } catch {
      return; // storage blocked or full: the reload happens all the same
    }
    // A message queued while offline is kept here now: not in the box too, to be sent twice.
    if (this.#queuedDraft && this.#composer.text === this.#queuedDraft.text) this.#composer.clear();
  }

  // After a load: take back what keepForReload kept (minutes ago at most); it goes out on the welcome.
  restore(store, key) {
    let kept = null;
    try {
      kept = JSON.parse(store.getItem(key) || 'null');
      store.removeItem(key);
    } catch {
      return;
    }
    if (!kept || !Array.isArray(kept.entries) || !(Date.now() - kept.at < KEPT_FOR_MS)) return;
    for (const entry of kept.entries) {
      const [clientId, text] = Array.isArray(entry) ? entry : [];
      if (typeof clientId === 'string' && typeof text === 'string') this.#pending.set(clientId, text);
    }
    this.#changed();
  }

  // A terminal state: nothing will ever be sent.
  clear() {
    this.#pending.clear();
    this.#queuedDraft = null;
    this.#waiting = [];
    this.#lineHead = null;
    if (this.#retryTimer !== null) clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    this.#sentAt.clear();
    this.#changed();
  }

  // Refused as too fast: it goes back in line, in the order it was typed,
  // and the line moves again after `retryAfter` seconds.
  #wait(clientId, retryAfter) {
    if (clientId === this.#lineHead) this.#lineHead = null;
    if (!this.#waiting.includes(clientId)) {
      const order = Array.from(this.#pending.keys());
      this.#waiting.push(clientId);
      this.#waiting.sort((a, b) => order.indexOf(a) - order.indexOf(b));
    }
    const delay = Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : DEFAULT_RETRY_MS;
    if (this.#retryTimer !== null) clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      this.#sendNextWaiting();
    }, delay);
    this.#sayWaiting(Math.ceil(delay / 1000));
  }

  #sendNextWaiting() {
    const clientId = this.#waiting.shift();
    if (clientId === undefined) {
      this.#composer.showError('');
      return;
    }
    if (!this.#pending.has(clientId)) {
      this.#sendNextWaiting();
      return;
    }
    this.#lineHead = clientId;
    this.#sayWaiting();
    this.#send(clientId);
  }

  // What the line under the box says while messages wait (once per change,
  // not a countdown: a screen reader reads each change).
  #sayWaiting(seconds) {
    const count = this.#waiting.length + (this.#lineHead === null ? 0 : 1);
    if (count === 0) return;
    const what = count === 1 ? '1 message is waiting' : `${count} messages are waiting`;
    const when = seconds ? `; sending again in about ${seconds} s` : '; sending them in order';
    this.#composer.showError(`Sending too fast: ${what}${when}. Nothing you typed is lost.`);
  }

  #send(clientId) {
    try {
      this.#transmit(clientId, this.#pending.get(clientId));
    } catch {
      // The socket died between the check and the send; the pending entry
      // will be re-sent after reconnecting.
    }
  }

  #transmit(clientId, text) {
    this.#connection.send({ type: 'message', text, client_id: clientId });
    this.#sentAt.set(clientId, Date.now());
    this.#watchEchoes();
  }

  // Look again once the oldest unechoed message is due to show as failed.
  #watchEchoes() {
    if (this.#echoTimer !== null) return;
    const now = Date.now();
    const due = Array.from(this.#sentAt.values()).filter((at) => now - at < ECHO_TIMEOUT_MS);
    if (due.length === 0) return;
    this.#echoTimer = setTimeout(() => {
      this.#echoTimer = null;
      this.#changed();
      this.#watchEchoes();
    }, Math.min(...due) + ECHO_TIMEOUT_MS - now + 50);
  }

  #changed() {
    this.#onChange(this.entries);
  }
}
