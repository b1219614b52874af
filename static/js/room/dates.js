// Dates as the visitor reads them: their locale and time zone, a day label
// for separators ("Today", "Yesterday", a date) and a full date and time on
// every timestamp.

const MS_PER_DAY = 86400000;

export function parseDate(iso) {
  const date = new Date(iso || '');
  return Number.isNaN(date.getTime()) ? null : date;
}

// The local calendar day of a date, as YYYY-MM-DD (what separators compare).
export function dayKey(date) {
  const month = String(date.getMonth() + 1).padStart(2, '0');
  const day = String(date.getDate()).padStart(2, '0');
  return `${date.getFullYear()}-${month}-${day}`;
}

export function dayLabel(date, now = new Date()) {
  const today = new Date(now.getFullYear(), now.getMonth(), now.getDate());
  const then = new Date(date.getFullYear(), date.getMonth(), date.getDate());
  const days = Math.round((today - then) / MS_PER_DAY);
  if (days === 0) return 'Today';
  if (days === 1) return 'Yesterday';
  const sameYear = date.getFullYear() === now.getFullYear();
  return date.toLocaleDateString([], {
    weekday: 'long',
    month: 'long',
    day: 'numeric',
    ...(sameYear ? {} : { year: 'numeric' }),
  });
}

export function shortTime(date) {
  return date.toLocaleTimeString([], { hour: 'numeric', minute: '2-digit' });
}

export function fullDateTime(date) {
  return date.toLocaleString([], { dateStyle: 'full', timeStyle: 'short' });
}

// Fill a <time datetime> with the short time, and the full date and time as its title.
export function fillTime(timeEl, iso) {
  const date = parseDate(iso);
  timeEl.setAttribute('datetime', iso || '');
  if (!date) {
    timeEl.textContent = iso || '';
    return;
  }
  timeEl.textContent = shortTime(date);
  timeEl.title = fullDateTime(date);
}
