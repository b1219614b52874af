// A message's text as DOM nodes: http(s) URLs become links, @handles are
// marked, everything else stays text. Built with createElement and
// textContent only: nothing a person typed is ever parsed as HTML.

// A URL runs to the next space; what may end a sentence is trimmed below.
// Handles are letters and digits of any script, as the server's \w.
const URL_OR_MENTION = /\bhttps?:\/\/[^\s<>"]+|(?<![\p{L}\p{N}_@])@[\p{L}\p{N}_.+@-]+/giu;
const TRAILING = /[.,;:!?'"\u2019\u201d*_~-]+$/u;
const LINK_REL = 'noopener noreferrer nofollow ugc';

// "(see https://x.org/a_(b))" keeps the link's own parentheses, not the sentence's.
function trimUrl(raw) {
  let url = raw.replace(TRAILING, '');
  while (url.endsWith(')') && (url.match(/\(/g) || []).length < (url.match(/\)/g) || []).length) {
    url = url.slice(0, -1).replace(TRAILING, '');
  }
  return url;
}

function safeHttpUrl(text) {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}

function link(href, text) {
  const a = document.createElement('a');
  a.href = href;
  a.textContent = text;
  a.rel = LINK_REL;
  a.target = '_blank';
  return a;
}

function mention(handle) {
  const span = document.createElement('span');
  span.className = 'mention';
  span.textContent = handle;
  return span;
}

// The nodes for `text`: strings (inserted as text nodes), links, mentions.
export function richText(text) {
  const nodes = [];
  let from = 0;
  for (const match of text.matchAll(URL_OR_MENTION)) {
    const raw = match[0];
    let token = raw;
    let node = null;
    if (raw.startsWith('@')) {
      token = raw.replace(/[.+@-]+$/u, '');
      if (token.length > 1) node = mention(token);
    } else {
      token = trimUrl(raw);
      const href = safeHttpUrl(token);
      if (href) node = link(href, token);
    }
    if (!node) continue;
    if (match.index > from) nodes.push(text.slice(from, match.index));
    nodes.push(node);
    from = match.index + token.length;
  }
  if (from < text.length) nodes.push(text.slice(from));
  return nodes;
}

// Put `text` into `el` as rich text, replacing what was there.
export function fillRichText(el, text) {
  el.replaceChildren(...richText(text));
}
