// The connection-state badge. #chat carries the same data-state as the badge,
// so the page as a whole can be styled or tested by it.

const TEXT = Object.freeze({
  connecting: 'Connecting…',
  connected: 'Connected',
  closed: 'This room was closed',
  error: 'Room not found',
});

export class StatusBadge {
  #root;
  #badge;
  #loginUrl;

  constructor(root, badge, loginUrl) {
    this.#root = root;
    this.#badge = badge;
    this.#loginUrl = loginUrl;
  }

  // state is a Connection state ('reconnecting' with the seconds left) or a
  // terminal one ('closed', 'signedout', 'error').
  show(state, seconds) {
    if (state === 'signedout') {
      this.#showSignedOut();
    } else if (state === 'reconnecting') {
      this.#set('reconnecting', `Reconnecting in ${seconds}s…`);
    } else if (state === 'connecting' && this.#root.dataset.state === 'reconnecting') {
      // The countdown has run out: keep the reconnecting look while we try.
      this.#badge.textContent = 'Reconnecting…';
    } else {
      this.#set(state, TEXT[state]);
    }
  }

  #set(state, text) {
    this.#badge.dataset.state = state;
    this.#root.dataset.state = state;
    this.#badge.textContent = text;
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
