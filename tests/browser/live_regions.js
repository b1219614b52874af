// What a screen reader would read out of the page's live regions, after the
// rules of WAI-ARIA 1.2: each change inside a region whose politeness is not
// "off" (aria-live, or the implicit one of role log, status or alert) is
// announced if aria-relevant names its kind ("additions text" unless said),
// not while the region is aria-busy, and as the whole region's text when it
// is atomic (aria-atomic, implicitly true for status and alert).
// Announcements collect in window.__announcements as { text, politeness, region }.
(() => {
  const IMPLICIT = {
    log: { politeness: 'polite', atomic: false },
    status: { politeness: 'polite', atomic: true },
    alert: { politeness: 'assertive', atomic: true },
  };
  const announcements = [];
  window.__announcements = announcements;

  const squash = (text) => (text || '').replace(/\s+/g, ' ').trim();

  function regionOf(node) {
    for (let el = node.nodeType === Node.ELEMENT_NODE ? node : node.parentElement; el; el = el.parentElement) {
      const role = el.getAttribute('role');
      const implicit = IMPLICIT[role] || null;
      const live = el.getAttribute('aria-live');
      if (live || implicit) {
        if (live === 'off') return null;
        const atomic = el.hasAttribute('aria-atomic') ? el.getAttribute('aria-atomic') === 'true' : Boolean(implicit && implicit.atomic);
        return { el, politeness: live || implicit.politeness, atomic };
      }
    }
    return null;
  }

  function busy(node, region) {
    for (let el = node.nodeType === Node.ELEMENT_NODE ? node : node.parentElement; el; el = el.parentElement) {
      if (el.getAttribute('aria-busy') === 'true') return true;
      if (el === region) break;
    }
    return false;
  }

  // Hidden content is not read: a hidden attribute, display: none, visibility: hidden.
  function shown(node) {
    const el = node.nodeType === Node.ELEMENT_NODE ? node : node.parentElement;
    return Boolean(el && el.isConnected && el.checkVisibility({ visibilityProperty: true }));
  }

  function record(mutations) {
    const atomicDone = new Set();
    for (const mutation of mutations) {
      const region = regionOf(mutation.target);
      if (!region || busy(mutation.target, region.el)) continue;
      const relevant = (region.el.getAttribute('aria-relevant') || 'additions text').split(/\s+/);
      const all = relevant.includes('all');
      const changed = [];
      if (mutation.type === 'characterData' && (all || relevant.includes('text'))) changed.push(mutation.target);
      if (mutation.type === 'childList' && (all || relevant.includes('additions'))) {
        // Text nodes replaced by textContent count as text changes as well as additions.
        changed.push(...mutation.addedNodes);
      }
      const heard = changed.filter(shown);
      if (heard.length === 0) continue;
      if (region.atomic) {
        if (atomicDone.has(region.el)) continue;
        atomicDone.add(region.el);
        heard.splice(0, heard.length, region.el);
      }
      for (const node of heard) {
        const text = squash(node.textContent);
        if (text) announcements.push({ text, politeness: region.politeness, region: region.el.id || region.el.className });
      }
    }
  }

  const start = () => {
    new MutationObserver(record).observe(document.body, { childList: true, characterData: true, subtree: true });
  };
  if (document.body) start();
  else document.addEventListener('DOMContentLoaded', start);
})();
