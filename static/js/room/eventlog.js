// The room's event log, as this page follows it (README "Delivery").
//
// Every change to what the room shows (a message, a deletion) is a room event
// with the room's next seq. Frames from several server processes can arrive
// out of order and the channel layer may drop one, so events are applied
// strictly in seq order: a duplicate is dropped, an early one is held, and a
// gap that does not fill within GAP_WAIT_MS is fetched over HTTP. A
// `position` frame (every 30 s or so) reveals a lost last event the same way.
// Reconnects resume with since/epoch; a log that cannot cover the gap
// (another epoch, too far behind) sends the latest history, which replaces
// the view.

// Long enough for another process's frame that committed first to arrive.
const GAP_WAIT_MS = 1000;
const FETCH_RETRY_MS = 5000;
const FETCH_TIMEOUT_MS = 10000;
// Every socket of a room hears the same position at once: spread the fetches.
const POSITION_SPREAD_MS = 3000;

export class EventLog {
  #eventsUrl;
  #on;
  #seq = null; // the last seq applied; null before the first welcome
  #epoch = '';
  #held = new Map(); // seq -> frame that arrived early
  #gapTimer = null;
  #fetching = false;
  #stopped = false; // signed out, room closed: nothing more to fetch

  // apply(frame): show one room event; duplicate(frame): an event already
  // shown arrived again (the outbox still settles by it); replace(history):
  // start over from the latest messages, saying so.
  // `start` is where the server-rendered page stood ({ seq, epoch }), if known.
  constructor({ eventsUrl, start, apply, duplicate, replace }) {
    this.#eventsUrl = eventsUrl;
    this.#on = { apply, duplicate, replace };
    if (start && Number.isInteger(start.seq) && start.epoch) {
      this.#seq = start.seq;
      this.#epoch = start.epoch;
    }
  }

  // The last room event applied, or null before the first welcome.
  get seq() {
    return this.#seq;
  }

  // Where a reconnect resumes from, or null before the first welcome.
  get resume() {
    return this.#seq === null ? null : { since: this.#seq, epoch: this.#epoch };
  }

  welcome(frame) {
    this.interrupted();
    if (frame.recovered === true) {
      this.#catchUp(frame.events || [], frame.seq, frame.has_more === true);
    } else if (frame.recovered === false) {
      this.#startOver(frame.history || [], frame.seq, frame.epoch);
    } else {
      // A first connect: the history is what the room shows now.
      for (const event of frame.history || []) this.#on.apply(event);
      this.#seq = frame.seq || 0;
      this.#epoch = frame.epoch || '';
    }
  }

  // A frame that carries a seq (a room event).
  receive(frame) {
    if (this.#seq === null || frame.seq <= this.#seq) {
      this.#on.duplicate(frame);
      return;
    }
    if (frame.seq === this.#seq + 1) {
      this.#on.apply(frame);
      this.#seq = frame.seq;
      this.#drain();
      return;
    }
    this.#held.set(frame.seq, frame);
    this.#waitForGap();
  }

  // Where the server's log stands: behind it (or in another epoch), catch up.
  position(frame) {
    if (this.#seq === null) return;
    if (frame.epoch !== this.#epoch || frame.seq > this.#seq) {
      this.#waitForGap(GAP_WAIT_MS + Math.random() * POSITION_SPREAD_MS);
    }
  }

  // The socket dropped: its resume covers whatever was held or missing. A
  // fetch still on its way may land; what it brings is applied like any other.
  interrupted() {
    this.#held.clear();
    if (this.#gapTimer !== null) clearTimeout(this.#gapTimer);
    this.#gapTimer = null;
    this.#fetching = false;
  }

  // The connection ended for good.
  stop() {
    this.#stopped = true;
    this.interrupted();
  }

  #drain() {
    while (this.#held.has(this.#seq + 1)) {
      const next = this.#held.get(this.#seq + 1);
      this.#held.delete(this.#seq + 1);
      this.#on.apply(next);
      this.#seq = next.seq;
    }
    for (const seq of this.#held.keys()) if (seq <= this.#seq) this.#held.delete(seq);
    if (this.#held.size === 0 && this.#gapTimer !== null) {
      clearTimeout(this.#gapTimer);
      this.#gapTimer = null;
    }
  }

  #waitForGap(delay = GAP_WAIT_MS) {
    if (this.#stopped || this.#gapTimer !== null || this.#fetching) return;
    this.#gapTimer = setTimeout(() => {
      this.#gapTimer = null;
      this.#fetchGap();
    }, delay);
  }

  async #fetchGap() {
    this.#fetching = true;
    const url = new URL(this.#eventsUrl, window.location.origin);
    url.searchParams.set('since', String(this.#seq));
    url.searchParams.set('epoch', this.#epoch);
    let answer = null;
    try {
      const response = await fetch(url, {
        credentials: 'same-origin',
        headers: { Accept: 'application/json' },
        signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
      });
      // Signed out or the room is gone: the socket learns it too, and says so.
      if (response.status === 401 || response.status === 404) {
        this.#fetching = false;
        return;
      }
      if (response.ok) answer = await response.json();
    } catch {
      answer = null;
    }
    this.#fetching = false;
    if (this.#stopped) return;
    if (!answer) {
      this.#waitForGap(FETCH_RETRY_MS); // the socket's own reconnect may resume first
    } else if (answer.recovered) {
      this.#catchUp(answer.events || [], answer.seq, answer.has_more === true);
    } else {
      this.#startOver(answer.history || [], answer.seq, answer.epoch);
    }
  }

  // Replayed events skip the seqs of messages changed again since (each
  // message replays once, in its latest state): apply them, then stand at
  // the seq the replay covers: the room's, or a later event it caught. A
  // replay comes a page at a time: `hasMore` asks for the next one at once.
  #catchUp(events, coveredSeq, hasMore) {
    let covered = Math.max(this.#seq, coveredSeq || 0);
    for (const event of events) {
      if (event.seq > this.#seq) this.#on.apply(event);
      else this.#on.duplicate(event);
      covered = Math.max(covered, event.seq);
    }
    this.#seq = covered;
    this.#drain();
    if (hasMore && !this.#stopped) this.#fetchGap();
    else if (this.#held.size > 0) this.#waitForGap();
  }

  #startOver(history, seq, epoch) {
    this.#held.clear();
    this.#seq = seq || 0;
    this.#epoch = epoch || '';
    this.#on.replace(history);
  }
}
