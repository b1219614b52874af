// What one can do to a message: react (the picker, or a reaction's own
// button to toggle it), edit one's own within the edit window (in place,
// Enter saves, Escape cancels), delete one's own or, as a moderator, any
// (asked once more in place: a chat never opens a dialog box). Each is a
// frame on the socket; the room's event (message_edited, reactions,
// message_deleted) updates every screen, this one included.

import { element, moveRovingFocus, button as newButton, roveByKey } from './dom.js';
import { ReactionPicker } from './picker.js';

export class MessageActions {
  #messages;
  #connection;
  #showError;
  #editable;
  #picker = new ReactionPicker();
  // message id -> { form, textarea, status, sent }: `sent` is the text
  // saved last, until the room says the message reads so.
  #editors = new Map();

  // editable(msg-like { sent_at }): whether the edit window is still open.
  constructor({ messages, connection, showError, editable }) {
    this.#messages = messages;
    this.#connection = connection;
    this.#showError = showError;
    this.#editable = editable;
    messages.element.addEventListener('click', (event) => this.#onClick(event));
    messages.element.addEventListener('keydown', (event) => this.#onToolbarKey(event));
  }

  // A message now reads `frame.text` (an edit, or a replay of it), or is
  // gone (message_deleted): an editor that saved that text has done its work.
  settled(frame) {
    const id = Number(frame.id);
    const editor = this.#editors.get(id);
    if (!editor) return;
    // message_edited while saving: ours went through, or changed nothing (the server answers as it stands).
    const saved = frame.type === 'message_edited' && editor.sent !== null;
    if (frame.type === 'message_deleted' || frame.text === editor.sent || saved) this.#closeEditor(id);
  }

  // The view started over: editors and questions on the rows it dropped go too.
  reset() {
    this.#editors.clear();
    this.#picker.close({ restoreFocus: false });
  }

  // An error frame about one message (its `id`): say so where it was asked.
  refused(frame) {
    const editor = this.#editors.get(Number(frame.id));
    if (editor) {
      editor.status.textContent = frame.detail || 'That edit was refused.';
      editor.textarea.disabled = false;
      editor.textarea.focus();
    } else {
      this.#showError(frame.detail || 'That could not be done.');
    }
  }

  #send(frame) {
    if (!this.#connection.open) {
      this.#showError('Not connected — try again once the connection is back.');
      return false;
    }
    this.#connection.send(frame);
    return true;
  }

  // Left and Right (and Home, End) move along a message's toolbar; Tab leaves it.
  #onToolbarKey(event) {
    const toolbar = event.target.closest('.message-actions');
    if (!toolbar || event.target.tagName !== 'BUTTON') return;
    roveByKey(event, Array.from(toolbar.querySelectorAll('button')), { ArrowRight: 1, ArrowLeft: -1 });
  }

  // Focus back on one of a message's actions, which becomes its toolbar's Tab stop.
  #focusAction(li, action) {
    const toolbar = li.querySelector('.message-actions');
    if (toolbar && action && action.isConnected) moveRovingFocus(toolbar.querySelectorAll('button'), action);
  }

  #onClick(event) {
    const button = event.target.closest('button');
    const li = button && button.closest('li.message');
    if (!li) return;
    const id = Number(li.dataset.id);
    if (button.classList.contains('reaction')) {
      this.#send({ type: 'react', id, emoji: button.dataset.emoji });
    } else if (button.dataset.action === 'react') {
      this.#picker.open(button, (emoji) => this.#send({ type: 'react', id, emoji }));
    } else if (button.dataset.action === 'edit') {
      this.#openEditor(li, id);
    } else if (button.dataset.action === 'delete') {
      this.#confirmDelete(li, id, button);
    }
  }

  #openEditor(li, id) {
    if (this.#editors.has(id)) {
      this.#editors.get(id).textarea.focus();
      return;
    }
    if (!this.#editable({ sent_at: li.dataset.sentAt })) {
      const edit = li.querySelector('button[data-action="edit"]');
      if (edit) edit.remove();
      this.#focusAction(li, li.querySelector('button[data-action="react"]'));
      this.#showError('That message can no longer be edited.');
      return;
    }
    const shown = li.querySelector('.message-text');
    const form = element('form', { className: 'message-editor' });
    const label = element('label', { className: 'visually-hidden', text: 'Edit your message' });
    label.htmlFor = `edit-${id}`;
    const textarea = element('textarea', { attrs: { id: `edit-${id}`, rows: '2' } });
    textarea.value = shown.textContent;
    const save = newButton('Save', { type: 'submit' });
    const cancel = newButton('Cancel', { className: 'button-secondary' });
    const help = element('span', { className: 'message-editor-help', text: 'Enter to save, Escape to cancel.' });
    const status = element('p', { className: 'message-editor-status', attrs: { role: 'alert' } });
    form.append(label, textarea, save, cancel, help, status);
    shown.hidden = true;
    shown.after(form);
    const editor = { form, textarea, status, sent: null };
    this.#editors.set(id, editor);

    const submit = () => {
      const text = textarea.value.trim();
      if (!text) {
        status.textContent = 'A message cannot be empty: delete it instead.';
        return;
      }
      if (text === shown.textContent) {
        this.#closeEditor(id);
        return;
      }
      if (this.#send({ type: 'edit', id, text })) {
        editor.sent = text;
        status.textContent = 'Saving…';
      }
    };
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      submit();
    });
    cancel.addEventListener('click', () => this.#closeEditor(id));
    textarea.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') {
        event.preventDefault();
        this.#closeEditor(id);
      } else if (event.key === 'Enter' && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
        event.preventDefault();
        submit();
      }
    });
    textarea.focus();
    textarea.setSelectionRange(textarea.value.length, textarea.value.length);
  }

  #closeEditor(id) {
    const editor = this.#editors.get(id);
    if (!editor) return;
    this.#editors.delete(id);
    const li = editor.form.closest('li.message');
    editor.form.remove();
    if (!li) return;
    li.querySelector('.message-text').hidden = false;
    this.#focusAction(li, li.querySelector('button[data-action="edit"]'));
  }

  #confirmDelete(li, id, button) {
    if (li.querySelector('.message-confirm')) return;
    const actions = li.querySelector('.message-actions');
    const confirm = element('div', {
      className: 'message-confirm',
      attrs: { role: 'group', 'aria-label': 'Delete this message?' },
    });
    const question = element('span', { text: 'Delete for everyone?' });
    const yes = newButton('Delete', { className: 'button-danger' });
    const no = newButton('Keep', { className: 'button-secondary' });
    confirm.append(question, ' ', yes, ' ', no);
    actions.hidden = true;
    actions.after(confirm);
    const done = () => {
      confirm.remove();
      actions.hidden = false;
      this.#focusAction(li, button);
    };
    yes.addEventListener('click', () => {
      if (this.#send({ type: 'delete', id })) question.textContent = 'Deleting…';
      else done();
    });
    no.addEventListener('click', done);
    confirm.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') done();
    });
    no.focus();
  }
}
