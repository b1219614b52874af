// One message of the log as a list item: author and time, rich text, an
// "edited" mark, its reactions and its actions (react, edit, delete). Every
// piece of user text goes in through textContent (richtext.js).

import { fillTime } from './dates.js';
import { button as newButton } from './dom.js';
import { fillRichText } from './richtext.js';

function actionButton(action, label, text) {
  const className = `message-action message-${action}`;
  return newButton(text, { className, label, attrs: { 'data-action': action } });
}

// A toolbar (WAI-ARIA APG): one Tab stop per message, arrow keys move within (actions.js).
function buildActions(msg, { own, moderator, editable }) {
  const actions = document.createElement('div');
  actions.className = 'message-actions';
  const who = msg.user ? msg.user.name : 'someone';
  actions.setAttribute('role', 'toolbar');
  actions.setAttribute('aria-label', `Actions on ${who}'s message`);
  const react = actionButton('react', `React to ${who}'s message`, '☺ React');
  react.setAttribute('aria-haspopup', 'dialog');
  react.setAttribute('aria-expanded', 'false');
  actions.append(react);
  if (own && editable) actions.append(actionButton('edit', 'Edit your message', 'Edit'));
  if (own || moderator) {
    const label = own ? 'Delete your message' : 'Delete this message for everyone';
    actions.append(actionButton('delete', label, 'Delete'));
  }
  for (const action of actions.children) action.tabIndex = action === react ? 0 : -1;
  return actions;
}

// ctx: { isOwn(user), myId() (as a string, '' before the welcome), moderator,
// editable(msg) (still inside the edit window), nameOf(id) }
export function buildRow(msg, ctx) {
  const own = ctx.isOwn(msg.user);
  const li = document.createElement('li');
  li.className = 'message';
  if (own) li.classList.add('own');
  li.dataset.id = String(msg.id);
  li.dataset.userId = String(msg.user ? msg.user.id : '');
  li.dataset.sentAt = msg.sent_at || '';
  li.dataset.seq = String(msg.seq || 0);

  const head = document.createElement('div');
  head.className = 'message-head';
  const author = document.createElement('span');
  author.className = 'message-author';
  author.dataset.userId = li.dataset.userId;
  author.textContent = msg.user ? msg.user.name : '';
  const time = document.createElement('time');
  fillTime(time, msg.sent_at);
  head.append(author, ' ', time);

  const text = document.createElement('p');
  text.className = 'message-text';

  const edited = document.createElement('span');
  edited.className = 'message-edited';

  const reactions = document.createElement('ul');
  reactions.className = 'reactions';
  reactions.setAttribute('aria-label', 'Reactions');

  const actions = buildActions(msg, { own, moderator: ctx.moderator, editable: ctx.editable(msg) });
  li.append(head, text, edited, reactions, actions);
  updateText(li, msg, ctx);
  updateReactions(li, msg.reactions || [], ctx);
  return li;
}

// A new text (an edit) or the first: text, "edited", and whether it mentions me.
export function updateText(li, { text, edited_at: editedAt, mentions }, ctx) {
  fillRichText(li.querySelector('.message-text'), text || '');
  const edited = li.querySelector('.message-edited');
  if (editedAt) {
    edited.replaceChildren('(edited)');
    edited.title = `Edited ${new Date(editedAt).toLocaleString()}`;
  } else {
    edited.replaceChildren();
  }
  const mentioned = Array.isArray(mentions) && ctx.myId() !== '' && mentions.map(String).includes(ctx.myId());
  li.classList.toggle('mentioned', mentioned);
}

function reactionLabel(reaction, ctx) {
  const names = reaction.user_ids.map((id) => ctx.nameOf(id));
  const who = names.length > 3 ? `${names.slice(0, 3).join(', ')} and ${names.length - 3} more` : names.join(', ');
  return `${reaction.emoji} ${reaction.count}: ${who}`;
}

export function updateReactions(li, reactions, ctx) {
  const list = li.querySelector('.reactions');
  // Rebuilt whole: the reaction just pressed by keyboard keeps the focus.
  const focused = list.contains(document.activeElement) ? document.activeElement.dataset.emoji : null;
  const items = reactions.map((reaction) => {
    const item = document.createElement('li');
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'reaction';
    button.dataset.emoji = reaction.emoji;
    const mine = reaction.user_ids.map(String).includes(ctx.myId());
    button.setAttribute('aria-pressed', mine ? 'true' : 'false');
    const label = reactionLabel(reaction, ctx);
    button.setAttribute('aria-label', label);
    button.title = label;
    const emoji = document.createElement('span');
    emoji.className = 'reaction-emoji';
    emoji.textContent = reaction.emoji;
    const count = document.createElement('span');
    count.className = 'reaction-count';
    count.textContent = String(reaction.count);
    button.append(emoji, ' ', count);
    item.append(button);
    return item;
  });
  list.replaceChildren(...items);
  list.hidden = items.length === 0;
  if (focused !== null) {
    const again = Array.from(list.querySelectorAll('button.reaction')).find((b) => b.dataset.emoji === focused);
    (again || li.querySelector('button[data-action="react"]')).focus();
  }
}
