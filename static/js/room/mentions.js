// @ completion in the message box: typing @ and the start of a name lists
// the people whose handle or name begins so (the room's people endpoint);
// arrows move, Enter or Tab takes one, Escape closes. The box is a
// combobox whose listbox is #mention-list (WAI-ARIA combobox pattern).

// Letters and digits of any script, as the server's \w (rooms/message_text.py).
const TYPED_MENTION = /(?:^|[^\p{L}\p{N}_@])@([\p{L}\p{N}_.+-]{0,40})$/u;
const FETCH_DELAY_MS = 120;

export class MentionCompletion {
  #composer;
  #list;
  #url;
  #people = [];
  #active = -1;
  #typed = null; // what follows @ before the caret, while completing
  #timer = null;
  #cache = new Map();

  constructor({ composer, list, peopleUrl }) {
    this.#composer = composer;
    this.#list = list;
    this.#url = peopleUrl;
    const input = composer.input;
    input.setAttribute('role', 'combobox');
    input.setAttribute('aria-autocomplete', 'list');
    input.setAttribute('aria-controls', list.id);
    input.setAttribute('aria-expanded', 'false');
    // Capture: runs before the composer's own Enter-to-send.
    input.addEventListener('keydown', (event) => this.#onKey(event), true);
    input.addEventListener('input', () => this.#onInput());
    input.addEventListener('blur', () => setTimeout(() => this.#close(), 150));
    list.addEventListener('mousedown', (event) => event.preventDefault()); // keep focus in the box
    list.addEventListener('click', (event) => {
      const option = event.target.closest('[role="option"]');
      if (option) this.#choose(Number(option.dataset.index));
    });
  }

  #onInput() {
    const input = this.#composer.input;
    const before = input.value.slice(0, input.selectionStart);
    const match = before.match(TYPED_MENTION);
    if (!match || !this.#url) {
      this.#close();
      return;
    }
    this.#typed = match[1];
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#lookUp(match[1]), FETCH_DELAY_MS);
  }

  async #lookUp(typed) {
    let people = this.#cache.get(typed);
    if (!people) {
      const url = new URL(this.#url, window.location.origin);
      url.searchParams.set('q', typed);
      try {
        const response = await fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
        people = response.ok ? (await response.json()).people || [] : [];
      } catch {
        people = [];
      }
      this.#cache.set(typed, people);
    }
    if (this.#typed !== typed) return; // typed on meanwhile
    this.#show(people);
  }

  #show(people) {
    this.#people = people;
    this.#active = people.length ? 0 : -1;
    const options = people.map((person, index) => {
      const option = document.createElement('li');
      option.id = `mention-option-${index}`;
      option.setAttribute('role', 'option');
      option.dataset.index = String(index);
      const name = document.createElement('span');
      name.className = 'mention-name';
      name.textContent = person.name;
      const handle = document.createElement('span');
      handle.className = 'mention-handle';
      handle.textContent = `@${person.handle}`;
      option.append(name, ' ', handle);
      return option;
    });
    this.#list.replaceChildren(...options);
    const open = options.length > 0;
    this.#list.hidden = !open;
    this.#composer.input.setAttribute('aria-expanded', String(open));
    this.#highlight();
  }

  #highlight() {
    const input = this.#composer.input;
    this.#list.querySelectorAll('[role="option"]').forEach((option, index) => {
      option.setAttribute('aria-selected', String(index === this.#active));
    });
    if (this.#active >= 0) input.setAttribute('aria-activedescendant', `mention-option-${this.#active}`);
    else input.removeAttribute('aria-activedescendant');
  }

  #onKey(event) {
    if (this.#list.hidden || this.#people.length === 0) return;
    if (event.isComposing || event.keyCode === 229) return; // an IME's own Enter
    const count = this.#people.length;
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      this.#active = (this.#active + (event.key === 'ArrowDown' ? 1 : -1) + count) % count;
      this.#highlight();
    } else if ((event.key === 'Enter' || event.key === 'Tab') && !event.shiftKey && this.#active >= 0) {
      this.#choose(this.#active);
    } else if (event.key === 'Escape') {
      this.#close();
    } else {
      return;
    }
    event.preventDefault();
    event.stopImmediatePropagation();
  }

  #choose(index) {
    const person = this.#people[index];
    if (!person || this.#typed === null) return;
    this.#composer.insertAtCaret(`@${person.handle} `, this.#typed.length + 1);
    this.#close();
    this.#composer.focus();
  }

  #close() {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#typed = null;
    this.#people = [];
    this.#active = -1;
    this.#list.hidden = true;
    this.#list.replaceChildren();
    const input = this.#composer.input;
    input.setAttribute('aria-expanded', 'false');
    input.removeAttribute('aria-activedescendant');
  }
}
