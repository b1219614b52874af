// The message log (#messages), kept sorted by message id. All user-controlled
// text goes into the page through textContent only.

const NEAR_BOTTOM_PX = 80;

function formatTime(timeEl) {
  const iso = timeEl.getAttribute('datetime');
  const date = new Date(iso);
  if (!iso || Number.isNaN(date.getTime())) return;
  timeEl.textContent = date.toLocaleTimeString([], { hour: 'numeric', minute: '2-digit' });
  timeEl.title = date.toLocaleString();
}

function buildDeleteButton(id) {
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'message-delete';
  button.dataset.id = String(id);
  button.setAttribute('aria-label', 'Delete this message for everyone');
  button.textContent = 'Delete';
  return button;
}

function buildMessage(msg, own, moderator) {
  const li = document.createElement('li');
  li.className = 'message';
  if (own) li.classList.add('own');
  li.dataset.id = String(msg.id);

  const author = document.createElement('span');
  author.className = 'message-author';
  author.dataset.userId = String(msg.user ? msg.user.id : '');
  author.textContent = msg.user ? msg.user.name : '';

  const time = document.createElement('time');
  time.setAttribute('datetime', msg.sent_at || '');
  time.textContent = msg.sent_at || '';
  formatTime(time);

  const text = document.createElement('p');
  text.className = 'message-text';
  text.textContent = msg.text;

  // Same shape (including the separating spaces) as the server-rendered rows.
  li.append(author, ' ', time, ' ', text);
  if (moderator) li.append(buildDeleteButton(msg.id));
  return li;
}

function csrfToken() {
  const cookie = document.cookie.split('; ').find((c) => c.startsWith('csrftoken='));
  return cookie ? decodeURIComponent(cookie.slice('csrftoken='.length)) : '';
}

export class MessageLog {
  #log;
  #isOwn;
  #moderator;
  #messagesUrl;
  #onError;
  #byId = new Map(); // id -> <li>
  #lastId = 0;

  // Staff (moderator) get a Delete control on each message, posting to
  // messagesUrl; onError(text) reports a delete that failed.
  constructor(log, { isOwn, moderator, messagesUrl, onError }) {
    this.#log = log;
    this.#isOwn = isOwn;
    this.#moderator = moderator;
    this.#messagesUrl = messagesUrl;
    this.#onError = onError;
    if (moderator) {
      log.addEventListener('click', (event) => {
        const button = event.target.closest('button.message-delete');
        if (button) this.#delete(button.dataset.id);
      });
    }
  }

  // The highest message id shown: where a reconnect resumes.
  get lastId() {
    return this.#lastId;
  }

  // Take over the rows the server rendered into the page.
  adopt() {
    for (const li of this.#log.querySelectorAll('li.message')) {
      const id = Number(li.dataset.id);
      if (!Number.isFinite(id)) continue;
      this.#byId.set(id, li);
      if (id > this.#lastId) this.#lastId = id;
      const author = li.querySelector('.message-author');
      if (author && this.#isOwn({ id: author.dataset.userId })) {
        li.classList.add('own');
      }
      const time = li.querySelector('time');
      if (time) formatTime(time);
    }
    this.#scrollToBottom();
  }

  add(list) {
    const stick = this.#isNearBottom();
    let ownAdded = false;
    for (const msg of list) {
      if (this.#insert(msg) && this.#isOwn(msg.user)) ownAdded = true;
    }
    // Only follow new messages if the reader was already at the bottom (or
    // just sent one), so scrolling back through history is never interrupted.
    if (stick || ownAdded) this.#scrollToBottom();
  }

  // Start over from `list` (the log could not say what was missed).
  replaceAll(list) {
    for (const li of this.#byId.values()) li.remove();
    this.#byId.clear();
    this.#lastId = 0;
    this.add(list);
    this.#scrollToBottom();
  }

  remove(id) {
    const key = Number(id);
    const li = this.#byId.get(key);
    if (li) {
      li.remove();
      this.#byId.delete(key);
    }
  }

  // Insert a message keeping the list sorted by id. Returns true if inserted.
  #insert(msg) {
    const id = Number(msg.id);
    if (!Number.isFinite(id) || this.#byId.has(id)) return false;
    const li = buildMessage(msg, this.#isOwn(msg.user), this.#moderator);

    // New messages nearly always belong at the end, so walk backwards.
    let after = this.#log.lastElementChild;
    while (after && Number(after.dataset.id) > id) {
      after = after.previousElementSibling;
    }
    if (after) after.after(li);
    else this.#log.prepend(li);

    this.#byId.set(id, li);
    if (id > this.#lastId) this.#lastId = id;
    return true;
  }

  // The server answers with message_deleted to everyone, this page included,
  // so the row goes away the same way for all.
  async #delete(id) {
    const response = await fetch(`${this.#messagesUrl}${encodeURIComponent(id)}/delete/`, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { Accept: 'application/json', 'X-CSRFToken': csrfToken() },
    }).catch(() => null);
    if (!response || !response.ok) this.#onError('That message could not be deleted. Try again.');
  }

  #isNearBottom() {
    const { scrollHeight, scrollTop, clientHeight } = this.#log;
    return scrollHeight - scrollTop - clientHeight < NEAR_BOTTOM_PX;
  }

  #scrollToBottom() {
    this.#log.scrollTop = this.#log.scrollHeight;
  }
}
