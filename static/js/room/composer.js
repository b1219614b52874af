// The message box, its Send button and the error line under it. The box is
// the source of truth for a draft: what is in it is what would be sent. It
// grows with its text, and keeps its draft per room across reloads.

const DRAFT_SAVE_MS = 300;
const MAX_HEIGHT_SHARE = 0.4; // of the window's height

function storage() {
  try {
    return window.localStorage;
  } catch {
    return null; // storage blocked: drafts live as long as the page
  }
}

export class Composer {
  #form;
  #input;
  #send;
  #error;
  #draftKey;
  #saveTimer = null;

  constructor({ form, input, send, error }, { draftKey } = {}) {
    this.#form = form;
    this.#input = input;
    this.#send = send;
    this.#error = error;
    this.#draftKey = draftKey || '';
    const draft = this.#draftKey && storage() ? storage().getItem(this.#draftKey) : null;
    if (draft && !this.#input.value) this.#input.value = draft;
    this.#grow();
  }

  get input() {
    return this.#input;
  }

  // onSubmit on Send or Enter; onEdit whenever the user changes the text.
  listen({ onSubmit, onEdit }) {
    this.#form.addEventListener('submit', (event) => {
      event.preventDefault();
      onSubmit();
    });
    this.#input.addEventListener('keydown', (event) => {
      // Enter sends, Shift+Enter makes a newline; leave IME composition alone.
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
        event.preventDefault();
        onSubmit();
      }
    });
    this.#input.addEventListener('input', () => {
      this.#grow();
      this.#saveDraftSoon();
      onEdit();
    });
    window.addEventListener('pagehide', () => this.#saveDraft());
  }

  get text() {
    return this.#input.value.trim();
  }

  fill(text) {
    this.#input.value = text;
    this.#grow();
    this.#saveDraft();
  }

  // Put `text` where the caret is (a completion), replacing `replaceLength` characters before it.
  insertAtCaret(text, replaceLength) {
    const end = this.#input.selectionStart;
    const start = Math.max(0, end - replaceLength);
    this.#input.setRangeText(text, start, end, 'end');
    this.#grow();
    this.#saveDraftSoon();
  }

  clear() {
    this.#input.value = '';
    this.#grow();
    this.#saveDraft();
  }

  focus() {
    this.#input.focus();
  }

  showError(text) {
    this.#error.textContent = text || '';
  }

  setEnabled(enabled) {
    this.#input.disabled = !enabled;
    this.#send.disabled = !enabled;
  }

  #grow() {
    this.#input.style.height = 'auto';
    const limit = Math.round(window.innerHeight * MAX_HEIGHT_SHARE);
    this.#input.style.height = `${Math.min(this.#input.scrollHeight + 2, limit)}px`;
  }

  #saveDraftSoon() {
    if (this.#saveTimer !== null) clearTimeout(this.#saveTimer);
    this.#saveTimer = setTimeout(() => this.#saveDraft(), DRAFT_SAVE_MS);
  }

  #saveDraft() {
    if (this.#saveTimer !== null) clearTimeout(this.#saveTimer);
    this.#saveTimer = null;
    const store = storage();
    if (!store || !this.#draftKey) return;
    try {
      if (this.#input.value) store.setItem(this.#draftKey, this.#input.value);
      else store.removeItem(this.#draftKey);
    } catch {
      // Storage full: the draft stays in the box, only not across a reload.
    }
  }
}
