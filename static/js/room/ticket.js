// The connect ticket: a short-lived JWT fetched over HTTP (the session cookie
// authenticates that request). It travels in the socket's query string
// because browsers cannot set headers on a WebSocket.

// { status: 401 | 404, error } when signed out (error 'session_expired': the
// provider re-check is due) or the room is gone, else { status, ticket };
// throws on anything else so the caller backs off.
export async function fetchTicket(tokenUrl) {
  const response = await fetch(tokenUrl, {
    credentials: 'same-origin',
    headers: { Accept: 'application/json' },
  });
  if (response.status === 401 || response.status === 404) {
    const body = await response.json().catch(() => ({}));
    return { status: response.status, error: body && typeof body.error === 'string' ? body.error : '' };
  }
  if (!response.ok) throw new Error(`ticket request failed: ${response.status}`);
  const ticket = await response.json();
  if (!ticket || typeof ticket.token !== 'string') throw new Error('malformed ticket');
  return { status: response.status, ticket };
}

// `resume` is where a reconnect resumes in the room's event log: { since, epoch }.
export function socketUrl(ticket, slug, resume) {
  const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws';
  const path = ticket.ws_url || `/ws/rooms/${encodeURIComponent(slug)}/`;
  const url = new URL(path, `${scheme}://${window.location.host}`);
  url.searchParams.set('token', ticket.token);
  for (const [name, value] of Object.entries(resume || {})) url.searchParams.set(name, String(value));
  return url.href;
}
