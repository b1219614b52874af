// The message box, its Send button and the error line under it. The box is
// the source of truth for a draft: what is in it is what would be sent.

export class Composer {
  #form;
  #input;
  #send;
  #error;

  constructor({ form, input, send, error }) {
    this.#form = form;
    this.#input = input;
    this.#send = send;
    this.#error = error;
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
    this.#input.addEventListener('input', onEdit);
  }

  get text() {
    return this.#input.value.trim();
  }

  fill(text) {
    this.#input.value = text;
  }

  clear() {
    this.#input.value = '';
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
}
