// Keeps the "N online" counters on the rooms dashboard fresh by polling
// a small JSON endpoint. Polling (rather than a socket) keeps the dashboard
// cheap: one tiny request every few seconds, and none while the tab is hidden.

const POLL_INTERVAL_MS = 5000;

const container = document.getElementById('room-list');
const onlineUrl = container ? container.dataset.onlineUrl : '';

let timer = null;
let inFlight = false;
let stopped = false;

function stop() {
  stopped = true;
  if (timer !== null) {
    clearInterval(timer);
    timer = null;
  }
}

function applyCounts(counts) {
  if (!counts || typeof counts !== 'object') return;
  // Iterate the elements instead of building a selector from the slug, so
  // no slug ever needs CSS escaping.
  for (const el of container.querySelectorAll('[data-room-online]')) {
    const value = counts[el.dataset.roomOnline];
    if (typeof value === 'number' && Number.isFinite(value)) {
      const text = String(value);
      if (el.textContent !== text) el.textContent = text;
    }
  }
}

async function refresh() {
  // Skip while hidden (saves requests) or while a previous request is still
  // pending (avoids piling up on a slow network).
  if (stopped || inFlight || document.hidden) return;
  inFlight = true;
  try {
    const response = await fetch(onlineUrl, {
      credentials: 'same-origin',
      headers: { Accept: 'application/json' },
    });
    if (response.status === 401) {
      // Session is gone: a reload lets the server redirect to the login page.
      stop();
      window.location.reload();
      return;
    }
    const type = response.headers.get('Content-Type') || '';
    if (response.redirected && !type.includes('json')) {
      // Same situation if the server answered with a redirect to an HTML page.
      stop();
      window.location.reload();
      return;
    }
    if (!response.ok) return;
    const data = await response.json();
    applyCounts(data && data.rooms);
  } catch {
    // Network hiccup or bad JSON: try again on the next tick.
  } finally {
    inFlight = false;
  }
}

if (container && onlineUrl) {
  timer = setInterval(refresh, POLL_INTERVAL_MS);
  document.addEventListener('visibilitychange', () => {
    // Catch up straight away when the user comes back to the tab.
    if (!document.hidden) refresh();
  });
}
