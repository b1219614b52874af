// The room's live connection.
//
// Flow: fetch a short-lived connect ticket over HTTP (the session cookie
// authenticates that request), then open the WebSocket with the ticket in the
// query string. The ticket only opens the socket; every (re)connect fetches a
// fresh one and resumes where the page stands in the room's event log, so
// nothing is missed or repeated.

import { CLOSE } from './protocol.js';
import { Renewal } from './renewal.js';
import { fetchTicket, socketUrl } from './ticket.js';

// While disconnected, the page asks /healthz (one cheap request) after each
// of these waits, growing to the cap, and reconnects the moment it answers:
// no sleeping through a server that is already back.
// The cap keeps "back" to "connected" under a second; a probe of a server that
// is down costs a refused connection, one that is up one small GET.
const MAX_PROBE_WAIT_MS = 800;
const BASE_PROBE_WAIT_MS = 200;
const PROBE_GROWTH = 1.6;
const PROBE_TIMEOUT_MS = 3000;
const JITTER = 0.2;
const NORMAL_CLOSURE = 1000; // the standard code, not one of ours

function probeWait(attempt) {
  const base = Math.min(MAX_PROBE_WAIT_MS, BASE_PROBE_WAIT_MS * PROBE_GROWTH ** attempt);
  const jitter = 1 - JITTER + Math.random() * 2 * JITTER;
  // Jitter spreads the probes out so a server restart is not met by a
  // synchronised stampede; the cap still holds afterwards.
  return Math.min(MAX_PROBE_WAIT_MS, Math.round(base * jitter));
}

// One room's socket, kept open until a terminal state. Callbacks:
// onState('connecting' | 'connected' | 'reconnecting'), once per change;
// onWelcome(frame) and onFrame(frame) for every other frame; onFinish(state)
// once, with 'closed', 'forbidden' (access lost), 'signedout', 'expired' (the
// provider re-check is due: reload the page) or 'error' (room not found).
export class Connection {
  #tokenUrl;
  #slug;
  #resumeFrom;
  #healthUrl;
  #on;
  #socket = null;
  #backoffAttempt = 0;
  #reconnectTimer = null;
  #state = null;
  #connectSeq = 0; // bumps on every attempt so stale async results are ignored
  #connecting = false;
  #terminal = false; // closed / signed out / not found: never reconnect
  #renewal;

  constructor({ tokenUrl, slug, resumeFrom, onState, onWelcome, onFrame, onFinish, healthUrl = '/healthz' }) {
    this.#tokenUrl = tokenUrl;
    this.#slug = slug;
    this.#resumeFrom = resumeFrom;
    this.#healthUrl = healthUrl;
    this.#on = { onState, onWelcome, onFrame, onFinish };
    this.#renewal = new Renewal({
      tokenUrl,
      send: (frame) => {
        if (this.open) this.send(frame);
      },
      onRefused: (result) => this.#ticketRefused(result),
    });
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
    // A retry keeps saying "reconnecting": one announcement per outage, not per attempt.
    if (this.#state !== 'reconnecting') this.#setState('connecting');

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

    if (result.ticket) this.#openSocket(result.ticket);
    else this.#ticketRefused(result);
  }

  // The ticket endpoint said 401 or 404: why decides the end.
  #ticketRefused(result) {
    if (result.status === 404) this.finish('error');
    else if (result.error === 'session_expired') this.finish('expired');
    else this.finish('signedout');
  }

  // Skip the rest of the wait (the network is back, or the person asked).
  retryNow() {
    if (!this.#terminal && !this.#socket && !this.#connecting) {
      this.#clearReconnect();
      this.connect();
    }
  }

  // Enter a state from which we never reconnect.
  finish(state) {
    if (this.#terminal) return; // once: a late answer must not replace the first reason
    this.#terminal = true;
    this.#clearReconnect();
    this.#renewal.stop();
    this.#on.onFinish(state);
    if (this.#socket) {
      const ws = this.#socket;
      this.#socket = null;
      try { ws.close(NORMAL_CLOSURE); } catch { /* already closing */ }
    }
  }

  #setState(state) {
    if (state === this.#state) return;
    this.#state = state;
    this.#on.onState(state);
  }

  #clearReconnect() {
    if (this.#reconnectTimer !== null) clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = null;
  }

  #scheduleReconnect() {
    if (this.#terminal) return;
    this.#clearReconnect();
    this.#setState('reconnecting');
    const wait = probeWait(this.#backoffAttempt);
    this.#backoffAttempt += 1;
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = null;
      this.#probe();
    }, wait);
  }

  // Is the server back? Connect the moment it says so; else wait a little longer.
  async #probe() {
    let up = false;
    try {
      const response = await fetch(this.#healthUrl, {
        cache: 'no-store',
        credentials: 'same-origin',
        signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
      });
      up = response.ok;
    } catch {
      up = false;
    }
    if (this.#terminal || this.#socket || this.#connecting || this.#reconnectTimer !== null) return;
    if (up) this.connect();
    else this.#scheduleReconnect();
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
        this.#setState('connected');
        this.#renewal.schedule(data.renew_in);
        this.#on.onWelcome(data);
      } else if (data.type === 'refreshed') {
        this.#renewal.schedule(data.renew_in);
      } else {
        this.#on.onFrame(data);
      }
    });

    ws.addEventListener('close', (event) => {
      if (ws !== this.#socket) return;
      this.#socket = null;
      this.#renewal.stop();
      if (this.#terminal) return;
      if (event.code === CLOSE.ROOM_CLOSED) {
        this.finish('closed');
      } else if (event.code === CLOSE.ACCESS_LOST) {
        this.finish('forbidden');
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
