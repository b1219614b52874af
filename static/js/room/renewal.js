// Keeps an open socket past its session's deadline. The welcome (and each
// `refreshed` frame) says in `renew_in` seconds when the server will close it
// (4401); shortly before, a fresh ticket is fetched over HTTP and sent as
// {"type": "refresh"}. That request is what runs the provider re-check: once
// it is due the ticket endpoint answers 401 session_expired, and the owner
// reloads the page through the provider.

import { fetchTicket } from './ticket.js';

const LEAD_S = 20; // renew this long before the deadline
const MIN_WAIT_S = 1;

export class Renewal {
  #tokenUrl;
  #send;
  #onRefused;
  #timer = null;

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
    const wait = renewIn > 2 * LEAD_S ? renewIn - LEAD_S : renewIn / 2;
    this.#timer = setTimeout(() => this.#renew(), Math.max(MIN_WAIT_S, wait) * 1000);
  }

  stop() {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  async #renew() {
    this.#timer = null;
    let result;
    try {
      result = await fetchTicket(this.#tokenUrl);
    } catch {
      return; // the network is down: the socket's close starts the reconnect instead
    }
    if (result.ticket) this.#send({ type: 'refresh', token: result.ticket.token });
    else this.#onRefused(result);
  }
}
