// Keeps an open socket past its session's deadline. The welcome (and each
// `refreshed` frame) says in `renew_in` seconds when the server will close it
// (4401); shortly before, a fresh ticket is fetched over HTTP and sent as
// {"type": "refresh"}. That request is what runs the provider re-check: once
// it is due the ticket endpoint answers 401 session_expired, and the owner
// reloads the page through the provider.

import { fetchTicket } from './ticket.js';

const LEAD_S = 20; // renew this long before the deadline
const MIN_WAIT_S = 5; // the server takes one refresh per 5 s
const MAX_WAIT_S = 24 * 3600; // setTimeout fires at once past 2^31 ms
const JITTER_S = 5; // tabs of one session do not all go at the same second
const RETRY_S = 10; // after a network error, while the socket still stands

export class Renewal {
  #tokenUrl;
  #send;
  #onRefused;
  #timer = null;
  #round = 0; // bumps on stop(): an answer of an older round is dropped

  // send(frame) writes to the open socket; onRefused(result) hears a 401/404 ticket answer.
  constructor({ tokenUrl, send, onRefused }) {
    this.#tokenUrl = tokenUrl;
    this.#send = send;
    this.#onRefused = onRefused;
  }

  // renewIn: seconds left, or anything else for no deadline.
  schedule(renewIn) {
    this.stop();
    if (typeof renewIn !== 'number' || !Number.isFinite(renewIn)) return;
    // Close to the deadline (it cannot move before a re-check), try again halfway.
    const wait = renewIn > 2 * LEAD_S ? renewIn - LEAD_S - Math.random() * JITTER_S : renewIn / 2;
    this.#later(Math.min(MAX_WAIT_S, Math.max(MIN_WAIT_S, wait)), renewIn);
  }

  stop() {
    this.#round += 1;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #later(seconds, renewIn) {
    const round = this.#round;
    this.#timer = setTimeout(() => this.#renew(round, renewIn - seconds), seconds * 1000);
  }

  async #renew(round, renewIn) {
    this.#timer = null;
    let result;
    try {
      result = await fetchTicket(this.#tokenUrl);
    } catch {
      // The network blinked: try again while the deadline allows; past it the socket's close reconnects.
      if (round === this.#round && renewIn > RETRY_S) this.#later(RETRY_S, renewIn);
      return;
    }
    if (round !== this.#round) return; // stopped meanwhile (closed, finished)
    if (result.ticket) this.#send({ type: 'refresh', token: result.ticket.token });
    else this.#onRefused(result);
  }
}
