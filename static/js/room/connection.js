// The room's live connection.
//
// Flow: fetch a short-lived connect ticket over HTTP (the session cookie
// authenticates that request), then open the WebSocket with the ticket in the
// query string. The ticket only opens the socket; every (re)connect fetches a
// fresh one and resumes where the page stands in the room's event log, so
// nothing is missed or repeated.

import { CLOSE } from './protocol.js';
import { fetchTicket, socketUrl } from './ticket.js';

const MAX_BACKOFF_MS = 30000;
const BASE_BACKOFF_MS = 1000;
const JITTER = 0.2;
const NORMAL_CLOSURE = 1000; // the standard code, not one of ours

function backoffDelay(attempt) {
  const base = Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** attempt);
  const jitter = 1 - JITTER + Math.random() * 2 * JITTER;
  // Jitter spreads reconnects out so a server restart is not met by a
  // synchronised stampede; the cap still holds afterwards.
  return Math.min(MAX_BACKOFF_MS, Math.round(base * jitter));
}

// One room's socket, kept open until a terminal state. Callbacks:
// onState('connecting' | 'connected') and onState('reconnecting', seconds);
// onWelcome(frame) and onFrame(frame) for every other frame; onFinish(state)
// once, with 'closed', 'signedout' or 'error' (room not found).
export class Connection {
  #tokenUrl;
  #slug;
  #resumeFrom;
  #on;
  #socket = null;
  #backoffAttempt = 0;
  #reconnectTimer = null;
  #countdownTimer = null;
  #connectSeq = 0; // bumps on every attempt so stale async results are ignored
  #connecting = false;
  #terminal = false; // closed / signed out / not found: never reconnect

  constructor({ tokenUrl, slug, resumeFrom, onState, onWelcome, onFrame, onFinish }) {
    this.#tokenUrl = tokenUrl;
    this.#slug = slug;
    this.#resumeFrom = resumeFrom;
    this.#on = { onState, onWelcome, onFrame, onFinish };
  }

  get terminal() {
    return this.#terminal;
  }

  get open() {
    return this.#socket !== null && this.#socket.readyState === WebSocket.OPEN;
  }

  send(frame) {
    this.#socket.send(JSON.stringify(frame));
  }

  async connect() {
    if (this.#terminal || this.#connecting || this.#socket) return;
    this.#clearReconnect();
    this.#connecting = true;
    const seq = ++this.#connectSeq;
    this.#on.onState('connecting');

    let result;
    try {
      result = await fetchTicket(this.#tokenUrl);
    } catch {
      this.#connecting = false;
      if (seq === this.#connectSeq) this.#scheduleReconnect();
      return;
    }
    this.#connecting = false;
    if (seq !== this.#connectSeq || this.#terminal) return;

    if (result.status === 401) {
      this.finish('signedout');
      return;
    }
    if (result.status === 404) {
      this.finish('error');
      return;
    }
    this.#openSocket(result.ticket);
  }

  // Skip the rest of the backoff wait (the network is back).
  retryNow() {
    if (!this.#terminal && !this.#socket && !this.#connecting) {
      this.#clearReconnect();
      this.connect();
    }
  }

  // Enter a state from which we never reconnect.
  finish(state) {
    this.#terminal = true;
    this.#clearReconnect();
    this.#on.onFinish(state);
    if (this.#socket) {
      const ws = this.#socket;
      this.#socket = null;
      try { ws.close(NORMAL_CLOSURE); } catch { /* already closing */ }
    }
  }

  #clearReconnect() {
    if (this.#reconnectTimer !== null) clearTimeout(this.#reconnectTimer);
    if (this.#countdownTimer !== null) clearInterval(this.#countdownTimer);
    this.#reconnectTimer = null;
    this.#countdownTimer = null;
  }

  #scheduleReconnect() {
    if (this.#terminal) return;
    this.#clearReconnect();
    const delay = backoffDelay(this.#backoffAttempt);
    this.#backoffAttempt += 1;
    const deadline = Date.now() + delay;
    const showCountdown = () => {
      const seconds = Math.max(1, Math.ceil((deadline - Date.now()) / 1000));
      this.#on.onState('reconnecting', seconds);
    };
    showCountdown();
    this.#countdownTimer = setInterval(showCountdown, 1000);
    this.#reconnectTimer = setTimeout(() => {
      this.#clearReconnect();
      this.connect();
    }, delay);
  }

  #openSocket(ticket) {
    let ws;
    try {
      ws = new WebSocket(socketUrl(ticket, this.#slug, this.#resumeFrom()));
    } catch {
      this.#scheduleReconnect();
      return;
    }
    this.#socket = ws;
    let welcomed = false;

    ws.addEventListener('message', (event) => {
      if (ws !== this.#socket) return; // a socket we already gave up on
      let data;
      try {
        data = JSON.parse(event.data);
      } catch {
        return;
      }
      if (!data || typeof data !== 'object') return;
      if (data.type === 'welcome') {
        welcomed = true;
        this.#backoffAttempt = 0;
        this.#on.onState('connected');
        this.#on.onWelcome(data);
      } else {
        this.#on.onFrame(data);
      }
    });

    ws.addEventListener('close', (event) => {
      if (ws !== this.#socket) return;
      this.#socket = null;
      if (this.#terminal) return;
      if (event.code === CLOSE.ROOM_CLOSED) {
        this.finish('closed');
      } else if (event.code === CLOSE.SIGNED_OUT && welcomed) {
        // The user signed out or was deactivated somewhere: every socket of
        // theirs closes, but this browser's session may still be valid. Ask for
        // a ticket at once; connect() ends in "Signed out" on a 401 and carries
        // on after a 200. A 4401 before any welcome backs off like any failure.
        this.connect();
      } else {
        this.#scheduleReconnect();
      }
    });
    // 'error' is always followed by 'close', which does the handling.
  }
}
