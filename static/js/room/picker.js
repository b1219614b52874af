// The reaction picker: a small non-modal dialog of common emoji and a box
// for any other single emoji. The emoji are one stop for Tab, arrow keys
// (and Home, End) move among them (roving tabindex); Escape closes it and
// focus goes back to the button that opened it, as does picking one.
// Focus leaving it, or a click outside, closes it too.

import { button, element, roveByKey } from './dom.js';

export const COMMON_EMOJI = Object.freeze(['👍', '❤️', '😂', '🎉', '😮', '😢', '👀', '✅']);

export class ReactionPicker {
  #dialog;
  #input;
  #opener = null;
  #onPick = null;

  constructor() {
    const dialog = element('div', {
      className: 'reaction-picker',
      attrs: { role: 'dialog', 'aria-label': 'Add a reaction' },
    });
    dialog.hidden = true;

    const grid = element('div', {
      className: 'reaction-picker-common',
      attrs: { role: 'group', 'aria-label': 'Common reactions' },
    });
    for (const emoji of COMMON_EMOJI) {
      const choice = button(emoji, { className: 'reaction-choice', label: `React with ${emoji}` });
      choice.tabIndex = grid.childElementCount === 0 ? 0 : -1;
      choice.addEventListener('click', () => this.#pick(emoji));
      grid.append(choice);
    }

    const form = element('form', { className: 'reaction-picker-other' });
    const label = element('label', { className: 'visually-hidden', text: 'Any other emoji' });
    label.htmlFor = 'reaction-other';
    this.#input = element('input', {
      attrs: { id: 'reaction-other', autocomplete: 'off', placeholder: 'Any emoji' },
    });
    this.#input.maxLength = 32;
    const add = button('Add', { type: 'submit' });
    form.append(label, this.#input, add);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const emoji = this.#input.value.trim();
      if (!emoji) return;
      this.#pick(emoji);
    });
    dialog.append(grid, form);
    dialog.addEventListener('keydown', (event) => this.#onKey(event, grid));
    dialog.addEventListener('focusout', (event) => {
      // relatedTarget null: focus went to the page itself (a click elsewhere, which pointerdown handles).
      if (event.relatedTarget && !dialog.contains(event.relatedTarget)) this.close({ restoreFocus: false });
    });
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
    this.#dialog.querySelector('.reaction-choice[tabindex="0"]').focus();
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
    const steps = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 };
    roveByKey(event, Array.from(grid.querySelectorAll('button')), steps);
  }
}
