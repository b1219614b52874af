// Notifications, opt-in: once the person turns them on (a button; the
// browser asks for permission), a message that mentions them while the tab
// is hidden shows a system notification. Nothing else does.

const PREFERENCE = 'lets-talk:notifications';
const BODY_MAX = 140;

function stored() {
  try {
    return window.localStorage.getItem(PREFERENCE) === 'on';
  } catch {
    return false;
  }
}

function store(on) {
  try {
    window.localStorage.setItem(PREFERENCE, on ? 'on' : 'off');
  } catch {
    // Storage blocked: the choice lasts as long as the page.
  }
}

export class MentionNotifier {
  #button;
  #roomName;
  #myId;
  #on = false;

  // button: the toggle (hidden where the browser has no notifications).
  constructor({ button, roomName, myId }) {
    this.#button = button;
    this.#roomName = roomName;
    this.#myId = myId;
    if (!button) return;
    if (!('Notification' in window)) {
      button.hidden = true;
      return;
    }
    this.#on = stored() && Notification.permission === 'granted';
    this.#show();
    button.addEventListener('click', () => this.#toggle());
  }

  // A message new to the page: notify if it mentions this person and they are not looking.
  message(msg) {
    if (!this.#on || !document.hidden || !Array.isArray(msg.mentions)) return;
    if (!msg.mentions.map(String).includes(this.#myId())) return;
    const who = msg.user ? msg.user.name : 'Someone';
    const text = String(msg.text || '');
    const notification = new Notification(`${who} mentioned you in ${this.#roomName}`, {
      body: text.length > BODY_MAX ? `${text.slice(0, BODY_MAX)}…` : text,
      tag: `message-${msg.id}`,
    });
    notification.addEventListener('click', () => window.focus());
  }

  async #toggle() {
    if (this.#on) {
      this.#on = false;
    } else {
      const asked = Notification.permission === 'default';
      const permission = asked ? await Notification.requestPermission() : Notification.permission;
      this.#on = permission === 'granted';
      if (permission === 'denied') this.#button.title = 'Notifications are blocked in this browser’s site settings.';
    }
    store(this.#on);
    this.#show();
  }

  #show() {
    this.#button.setAttribute('aria-pressed', String(this.#on));
    this.#button.textContent = this.#on ? 'Notifications on' : 'Notify me of mentions';
  }
}
