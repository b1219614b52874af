// The reaction picker: a small non-modal dialog of common emoji and a box
// for any other single emoji. Arrow keys move between the emoji, Escape
// closes it and focus goes back to the button that opened it.

export const COMMON_EMOJI = Object.freeze(['👍', '❤️', '😂', '🎉', '😮', '😢', '👀', '✅']);

export class ReactionPicker {
  #dialog;
  #input;
  #opener = null;
  #onPick = null;

  constructor() {
    const dialog = document.createElement('div');
    dialog.className = 'reaction-picker';
    dialog.setAttribute('role', 'dialog');
    dialog.setAttribute('aria-label', 'Add a reaction');
    dialog.hidden = true;

    const grid = document.createElement('div');
    grid.className = 'reaction-picker-common';
    grid.setAttribute('role', 'group');
    grid.setAttribute('aria-label', 'Common reactions');
    for (const emoji of COMMON_EMOJI) {
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'reaction-choice';
      button.textContent = emoji;
      button.setAttribute('aria-label', `React with ${emoji}`);
      button.addEventListener('click', () => this.#pick(emoji));
      grid.append(button);
    }

    const form = document.createElement('form');
    form.className = 'reaction-picker-other';
    const label = document.createElement('label');
    label.className = 'visually-hidden';
    label.htmlFor = 'reaction-other';
    label.textContent = 'Any other emoji';
    this.#input = document.createElement('input');
    this.#input.id = 'reaction-other';
    this.#input.autocomplete = 'off';
    this.#input.placeholder = 'Any emoji';
    this.#input.maxLength = 32;
    const add = document.createElement('button');
    add.type = 'submit';
    add.textContent = 'Add';
    form.append(label, this.#input, add);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const emoji = this.#input.value.trim();
      if (!emoji) return;
      this.#pick(emoji);
    });
    dialog.append(grid, form);
    dialog.addEventListener('keydown', (event) => this.#onKey(event, grid));
    document.addEventListener('pointerdown', (event) => {
      if (!dialog.hidden && !dialog.contains(event.target) && event.target !== this.#opener) this.close();
    });
    document.body.append(dialog);
    this.#dialog = dialog;
  }

  get isOpen() {
    return !this.#dialog.hidden;
  }

  // Open beside `opener`; onPick(emoji) when one is chosen.
  open(opener, onPick) {
    if (this.isOpen) this.close();
    this.#opener = opener;
    this.#onPick = onPick;
    this.#input.value = '';
    const box = opener.getBoundingClientRect();
    this.#dialog.hidden = false;
    const width = this.#dialog.offsetWidth;
    this.#dialog.style.top = `${Math.max(8, box.top + window.scrollY - this.#dialog.offsetHeight - 4)}px`;
    this.#dialog.style.left = `${Math.max(8, Math.min(box.left + window.scrollX, window.innerWidth - width - 8))}px`;
    opener.setAttribute('aria-expanded', 'true');
    this.#dialog.querySelector('.reaction-choice').focus();
  }

  close({ restoreFocus = true } = {}) {
    if (!this.isOpen) return;
    this.#dialog.hidden = true;
    const opener = this.#opener;
    this.#opener = null;
    this.#onPick = null;
    if (opener) {
      opener.setAttribute('aria-expanded', 'false');
      if (restoreFocus && opener.isConnected) opener.focus();
    }
  }

  #pick(emoji) {
    const onPick = this.#onPick;
    this.close();
    if (onPick) onPick(emoji);
  }

  #onKey(event, grid) {
    if (event.key === 'Escape') {
      event.preventDefault();
      this.close();
      return;
    }
    const choices = Array.from(grid.querySelectorAll('button'));
    const at = choices.indexOf(document.activeElement);
    if (at < 0) return;
    const step = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }[event.key];
    if (step) {
      event.preventDefault();
      choices[(at + step + choices.length) % choices.length].focus();
    } else if (event.key === 'Home' || event.key === 'End') {
      event.preventDefault();
      choices[event.key === 'Home' ? 0 : choices.length - 1].focus();
    }
  }
}
