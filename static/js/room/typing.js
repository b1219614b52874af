// Typing: this page says so while its person writes (at most every few
// seconds), and shows who else is writing ("Alice is typing…"), each
// dropped after a few seconds or when their message arrives.

const SEND_EVERY_MS = 3000;
const SHOWN_FOR_MS = 6000;

export class TypingSender {
  #connection;
  #lastSent = 0;

  constructor(connection) {
    this.#connection = connection;
  }

  // The box changed: tell the room, unless told a moment ago or the box is empty.
  typed(text) {
    const now = Date.now();
    if (!text || now - this.#lastSent < SEND_EVERY_MS || !this.#connection.open) return;
    this.#lastSent = now;
    this.#connection.send({ type: 'typing' });
  }

  // A message went out: the next keystroke is news again.
  sent() {
    this.#lastSent = 0;
  }
}

function sentence(names) {
  if (names.length === 0) return '';
  if (names.length === 1) return `${names[0]} is typing…`;
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
  const others = names.length - 2;
  return `${names[0]}, ${names[1]} and ${others} ${others === 1 ? 'other' : 'others'} are typing…`;
}

export class TypingLine {
  #el;
  #typists = new Map(); // user id -> { name, timer }

  constructor(el) {
    this.#el = el;
  }

  // A typing frame: show them for SHOWN_FOR_MS from now.
  typing(user) {
    if (!user || user.id === undefined) return;
    const key = String(user.id);
    const known = this.#typists.get(key);
    if (known) clearTimeout(known.timer);
    const timer = setTimeout(() => this.stopped(key), SHOWN_FOR_MS);
    this.#typists.set(key, { name: user.name || 'Someone', timer });
    this.#show();
  }

  // Their message arrived, or they left, or they went quiet.
  stopped(userId) {
    const key = String(userId);
    const known = this.#typists.get(key);
    if (!known) return;
    clearTimeout(known.timer);
    this.#typists.delete(key);
    this.#show();
  }

  clear() {
    for (const { timer } of this.#typists.values()) clearTimeout(timer);
    this.#typists.clear();
    this.#show();
  }

  #show() {
    const text = sentence(Array.from(this.#typists.values(), (t) => t.name));
    if (this.#el.textContent !== text) this.#el.textContent = text;
  }
}
