// Messages on their way out (the outbox's), under the log, each with its
// state: sending, waiting (too fast), waiting for the connection, or failed
// with a Retry. A message leaves this list when the server has stored it
// and it shows in the log.

import { button } from './dom.js';

const STATE_TEXT = Object.freeze({
  sending: 'Sending…',
  waiting: 'Waiting: sending too fast',
  offline: 'Will be sent when connected',
  failed: 'Not sent yet',
});

export class PendingList {
  #list;
  #onRetry;

  constructor(list, { onRetry }) {
    this.#list = list;
    this.#onRetry = onRetry;
    list.addEventListener('click', (event) => {
      const button = event.target.closest('button[data-client-id]');
      if (button) this.#onRetry(button.dataset.clientId);
    });
  }

  show(entries) {
    const focused = document.activeElement && this.#list.contains(document.activeElement);
    const items = entries.map(({ clientId, text, state }) => {
      const li = document.createElement('li');
      li.className = 'pending-message';
      li.dataset.clientId = clientId;
      li.dataset.state = state;
      const body = document.createElement('p');
      body.className = 'pending-text';
      body.textContent = text;
      const status = document.createElement('span');
      status.className = 'pending-state';
      status.textContent = STATE_TEXT[state] || state;
      li.append(body, status);
      if (state === 'failed') {
        const attrs = { 'data-client-id': clientId };
        li.append(' ', button('Retry', { className: 'button-secondary pending-retry', attrs }));
      }
      return li;
    });
    this.#list.replaceChildren(...items);
    this.#list.hidden = items.length === 0;
    if (focused) {
      const retry = this.#list.querySelector('button');
      if (retry) retry.focus();
    }
  }
}
