"""The real-time transport: WebSockets, the channel layer, presence and the rate limit.

The chat domain (rooms.models, services, selectors) knows nothing of sockets;
it reaches them through one bridge, `rooms.realtime.notify`, whose events are
sent only once the transaction that caused them commits.

- `handshake/`: who may open a socket (origin, room ticket, query string).
- `protocol/`: what travels: client frames in, server frames out, close codes,
  channel-layer events and group names.
- `consumer.py`: one socket in one room; `routing.py` maps URLs to it.
- `hub.py`: one channel-layer subscription per room per process, fanned out.
- `presence/`, `ratelimit/`: in-memory and Redis backends behind one protocol each.
- `registry.py`, `upkeep.py`: this process's sockets, and the Redis upkeep tick.
- `position.py`: every socket hears its room's current seq now and then.
- `ticker.py`: one periodic task per event loop, what upkeep and position share.
- `process.py`: the process's transport state, built once, reset by tests.
- `layers.py`, `redis.py`: the in-memory channel layer and Redis clients.
"""
