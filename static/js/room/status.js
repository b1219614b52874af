// The connection-state badge. #chat carries the same data-state as the badge,
// so the page as a whole can be styled or tested by it.

const TEXT = Object.freeze({
  connecting: 'Connecting…',
  connected: 'Connected',
  // No countdown: a screen reader reads the badge once per change.
  reconnecting: 'Reconnecting…',
  closed: 'This room was closed',
  forbidden: 'You can no longer enter this room',
  error: 'Room not found',
});

export class StatusBadge {
  #root;
  #badge;
  #loginUrl;
  #retry;

  // retry: the "Retry now" button, shown while reconnecting (optional).
  constructor(root, badge, loginUrl, retry = null) {
    this.#root = root;
    this.#badge = badge;
    this.#loginUrl = loginUrl;
    this.#retry = retry;
  }

  // state is a Connection state or a terminal one ('closed', 'forbidden', 'signedout', 'error').
  show(state) {
    if (this.#retry) this.#retry.hidden = state !== 'reconnecting';
    if (state === 'signedout') this.#showSignedOut();
    else this.#set(state, TEXT[state] || '');
  }

  #set(state, text) {
    this.#badge.dataset.state = state;
    this.#root.dataset.state = state;
    if (this.#badge.textContent !== text) this.#badge.textContent = text;
  }

  #showSignedOut() {
    this.#set('signedout', 'Signed out — ');
    const link = document.createElement('a');
    const url = new URL(this.#loginUrl, window.location.origin);
    url.searchParams.set('next', window.location.pathname);
    link.href = url.pathname + url.search;
    link.textContent = 'sign in again';
    this.#badge.append(link);
  }
}
