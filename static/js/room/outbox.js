// Messages on their way out: sent (or queued while offline) until the server
// echoes them back. The server stores a client_id once, so re-sending after a
// reconnect never duplicates a message.

import { ERROR } from './protocol.js';

// Error frames that refuse the message itself (not a malformed frame).
const REFUSALS = new Set([ERROR.EMPTY, ERROR.TOO_LONG, ERROR.RATE_LIMITED, ERROR.MUTED]);

function newClientId() {
  if (window.crypto && typeof crypto.randomUUID === 'function') {
    return crypto.randomUUID();
  }
  // randomUUID needs a secure context; plain http on a LAN address lacks it.
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

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

  constructor({ composer, connection, maxLength }) {
    this.#composer = composer;
    this.#connection = connection;
    this.#maxLength = maxLength;
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
      return;
    }

    const clientId = newClientId();
    this.#pending.set(clientId, text);
    this.#composer.showError('');
    try {
      this.#transmit(clientId, text);
    } catch {
      // The socket died between the check and the send; the pending entry
      // will be re-sent after reconnecting.
    }
    this.#composer.clear();
    this.#composer.focus();
  }

  // After a welcome: everything still pending goes out again.
  flush() {
    for (const [clientId, text] of this.#pending) this.#transmit(clientId, text);
    if (this.#queuedDraft) {
      // The queued text has now gone out; take it out of the box unless the
      // user has started typing something else.
      if (this.#composer.text === this.#queuedDraft.text) this.#composer.clear();
      this.#queuedDraft = null;
      this.#composer.showError('');
    }
  }

  // The echo of our own message carries our client_id: it is delivered.
  acknowledge(messages) {
    for (const msg of messages) {
      if (msg.client_id && this.#pending.has(msg.client_id)) {
        this.#pending.delete(msg.client_id);
      }
    }
  }

  // A retry of a message a moderator deleted meanwhile carries our client_id:
  // it is settled, so stop re-sending it.
  settle(clientId) {
    if (clientId) this.#pending.delete(clientId);
  }

  // An error frame does not say which message it refers to. The most recently
  // sent pending message is by far the likeliest culprit (e.g. rate limiting
  // after a quick burst), so stop re-sending it and give its text back.
  refused(code) {
    if (!REFUSALS.has(code)) return;
    const entries = Array.from(this.#pending.keys());
    const clientId = entries[entries.length - 1];
    if (!clientId) return;
    const text = this.#pending.get(clientId);
    this.#pending.delete(clientId);
    if (this.#queuedDraft && this.#queuedDraft.clientId === clientId) this.#queuedDraft = null;
    if (!this.#composer.text) this.#composer.fill(text);
  }

  // Editing a queued draft withdraws it: the box is the source of truth
  // until the user submits again.
  draftEdited() {
    if (this.#queuedDraft && this.#composer.text !== this.#queuedDraft.text) {
      this.#pending.delete(this.#queuedDraft.clientId);
      this.#queuedDraft = null;
    }
  }

  // A terminal state: nothing will ever be sent.
  clear() {
    this.#pending.clear();
    this.#queuedDraft = null;
  }

  #transmit(clientId, text) {
    this.#connection.send({ type: 'message', text, client_id: clientId });
  }
}
