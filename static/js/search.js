// The search box of the dashboard and of every room: / or Ctrl+K (⌘K) comes
// here, Enter asks /search/, and the results show below, newest first, each
// a link into its room with the words that matched marked. Text is inserted
// as text only: the server cuts it into parts, the parts become text nodes.

import { dayLabel, fullDateTime, parseDate, shortTime } from './room/dates.js';
import { element } from './room/dom.js';

const SEARCHING = 'Searching…';
const UNAVAILABLE = 'Search is not available right now; try again in a moment.';
const SIGNED_OUT = 'You are signed out: reload the page to sign in again.';

// ⌘K on a Mac (Ctrl+K there deletes to the end of the line), Ctrl+K elsewhere.
const MAC = /Mac|iPhone|iPad/.test(navigator.platform || '');

function isTyping(target) {
  return target instanceof HTMLElement && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
}

// Where a result opens: its room, at that message.
export function resultUrl(result) {
  const url = new URL(`/rooms/${encodeURIComponent(result.room)}/`, window.location.origin);
  url.searchParams.set('message', String(result.id));
  return `${url.pathname}${url.search}`;
}

// A result's text, its matched words in <mark>: one text node per part.
export function markedText(parts, fallback) {
  const text = element('p', { className: 'search-result-text' });
  for (const part of parts && parts.length ? parts : [{ text: fallback || '', match: false }]) {
    text.append(part.match ? element('mark', { text: part.text }) : document.createTextNode(part.text));
  }
  return text;
}

// When it was sent, with the day: a result may be from any time.
function when(iso) {
  const time = element('time', { className: 'search-result-time', attrs: { datetime: iso || '' } });
  const date = parseDate(iso);
  time.textContent = date ? `${dayLabel(date)}, ${shortTime(date)}` : iso || '';
  if (date) time.title = fullDateTime(date);
  return time;
}

function resultItem(result) {
  const item = element('li', { className: 'search-result' });
  const link = element('a', { className: 'search-result-link' });
  link.href = resultUrl(result);
  const where = element('span', { className: 'search-result-where' });
  const room = result.room_kind === 'direct' ? `Direct: ${result.room_name}` : result.room_name;
  where.append(
    element('span', { className: 'search-result-room', text: room }),
    element('span', { className: 'search-result-author', text: result.user ? result.user.name : '' }),
  );
  where.append(when(result.sent_at));
  link.append(where, markedText(result.parts, result.text));
  item.append(link);
  return item;
}

export class SearchBox {
  #root;
  #url;
  #form;
  #input;
  #panel;
  #status;
  #list;
  #more;
  #query = '';
  #page = 0;
  #shown = new Set(); // result ids listed: a page may repeat one when new messages arrive between pages
  #loading = false;
  // Bumped by every new search: an answer to an older one is dropped.
  #generation = 0;

  constructor(root) {
    this.#root = root;
    this.#url = root.dataset.searchUrl;
    this.#form = root.querySelector('.search-form');
    this.#input = root.querySelector('.search-input');
    this.#panel = root.querySelector('.search-results');
    this.#status = root.querySelector('.search-status');
    this.#list = root.querySelector('.search-list');
    this.#more = root.querySelector('.search-more');
    this.#form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.search(this.#input.value);
    });
    this.#more.addEventListener('click', () => {
      if (!this.#loading) this.#load(this.#page + 1);
    });
    root.querySelector('.search-close').addEventListener('click', () => this.close());
    root.addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && !this.#panel.hidden) {
        event.preventDefault();
        this.close();
      }
    });
    document.addEventListener('keydown', (event) => this.#shortcut(event));
  }

  #shortcut(event) {
    const modifier = MAC ? event.metaKey && !event.ctrlKey : event.ctrlKey && !event.metaKey;
    const ctrlK = modifier && !event.altKey && !event.shiftKey && event.key.toLowerCase() === 'k';
    const slash = event.key === '/' && !event.ctrlKey && !event.metaKey && !event.altKey && !isTyping(event.target);
    if (!ctrlK && !slash) return;
    event.preventDefault();
    this.#input.focus();
    this.#input.select();
  }

  // Search for `text` from its first page.
  search(text) {
    this.#query = text.trim();
    this.#list.replaceChildren();
    this.#shown.clear();
    this.#more.hidden = true;
    this.#panel.hidden = false;
    this.#load(1);
  }

  close() {
    this.#generation += 1; // an answer on its way is dropped
    this.#loading = false;
    this.#more.removeAttribute('aria-disabled');
    this.#panel.hidden = true;
    this.#input.focus();
  }

  async #load(page) {
    const generation = ++this.#generation;
    // Kept where it is (it may have focus), only not pressable meanwhile.
    this.#loading = true;
    this.#more.setAttribute('aria-disabled', 'true');
    this.#status.textContent = SEARCHING;
    const url = new URL(this.#url, window.location.origin);
    url.searchParams.set('q', this.#query);
    url.searchParams.set('page', String(page));
    let response = null;
    let body = null;
    try {
      response = await fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
      body = await response.json();
    } catch {
      body = null;
    }
    if (generation !== this.#generation) return;
    this.#loading = false;
    this.#more.removeAttribute('aria-disabled');
    if (!response || !body) {
      this.#status.textContent = UNAVAILABLE;
      return;
    }
    if (!response.ok) {
      this.#status.textContent = response.status === 401 ? SIGNED_OUT : body.detail || UNAVAILABLE;
      return;
    }
    this.#show(body, page);
  }

  #show(body, page) {
    const results = (Array.isArray(body.results) ? body.results : []).filter((result) => !this.#shown.has(result.id));
    for (const result of results) this.#shown.add(result.id);
    const items = results.map(resultItem);
    this.#list.append(...items);
    this.#page = page;
    const shown = this.#list.childElementCount;
    const more = body.has_more === true;
    this.#more.hidden = !more;
    if (shown === 0) {
      this.#status.textContent = `No messages match “${this.#query}”.`;
    } else {
      const count = `${shown}${more ? '+' : ''} ${shown === 1 && !more ? 'message matches' : 'messages match'}`;
      this.#status.textContent = `${count} “${this.#query}”, newest first.`;
    }
    // Keyboard users go on where the new results begin.
    if (page > 1 && items.length) items[0].querySelector('a').focus();
  }
}

const root = document.querySelector('.search[data-search-url]');
if (root) new SearchBox(root);
