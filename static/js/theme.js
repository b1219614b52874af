// The colour theme: the system's (prefers-color-scheme), or the one chosen with
// the header's button, remembered in this browser. A classic script in <head>,
// not a module: modules run after the page is drawn, and the page would
// flash in the other theme first.
(function theme() {
  const KEY = 'lets-talk:theme';
  const NEXT = { system: 'dark', dark: 'light', light: 'system' };

  function stored() {
    try {
      const value = window.localStorage.getItem(KEY);
      return value === 'dark' || value === 'light' ? value : 'system';
    } catch {
      return 'system'; // storage blocked: follow the system
    }
  }

  function apply(choice) {
    if (choice === 'system') delete document.documentElement.dataset.theme;
    else document.documentElement.dataset.theme = choice;
  }

  function remember(choice) {
    try {
      if (choice === 'system') window.localStorage.removeItem(KEY);
      else window.localStorage.setItem(KEY, choice);
    } catch {
      // Not remembered: it still applies to this page.
    }
  }

  apply(stored());
  document.addEventListener('DOMContentLoaded', () => {
    const button = document.getElementById('theme-toggle');
    if (!button) return;
    // "Theme: " is part of the name; on a phone only the sign and the choice show
    // (site.css), so the header stays one row.
    const sign = document.createElement('span');
    sign.setAttribute('aria-hidden', 'true');
    sign.textContent = '◐';
    const word = document.createElement('span');
    word.className = 'theme-toggle-word';
    word.textContent = 'Theme: ';
    const shown = document.createTextNode('');
    button.replaceChildren(sign, word, shown);
    const show = (choice) => {
      shown.data = choice;
      button.dataset.choice = choice;
    };
    show(stored());
    button.hidden = false;
    button.addEventListener('click', () => {
      const choice = NEXT[button.dataset.choice] || 'system';
      apply(choice);
      remember(choice);
      show(choice);
    });
  });
})();
