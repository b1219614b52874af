"""The rate limit shared by every process: a sliding-window log per key in Redis.

Each process also remembers when it asked for the messages Redis counted for
it. Once those alone fill the window, Redis would refuse too (the others' can
only add to them), so the refusal is answered here, with no round trip: a
flooding client costs Redis nothing per frame. A message is counted here from
a little before it was asked for (Redis counts whole milliseconds of its own
clock, and of the window), so this window never holds a message longer than
Redis's does. Only if Redis loses its counts (a flush, a failover) does this
process refuse for up to one window what Redis would admit: the limit holds.
"""

from __future__ import annotations

import hashlib
import itertools
import time
import uuid

from django.conf import settings
from redis.exceptions import NoScriptError

from rooms.realtime.ratelimit.memory import SlidingWindows
from rooms.realtime.redis import async_redis
from rooms.realtime.round_trips import RoundTrips

# KEYS: one log per message asked for (a key may come twice). ARGV: window (ms),
# limit, then one unique member per message. Returns, per message in order, 0 when
# it is counted, -1 when its key holds no log (only its own asker fails), else the ms
# until its window takes one more (at least 1).
# One call for the messages of one round trip: Redis runs them in the order asked,
# and redis-py packs and parses one command, not one per message.
# The server's clock is the one clock all processes share.
SLIDING_WINDOW = """
local now = redis.call('TIME')
local now_ms = now[1] * 1000 + math.floor(now[2] / 1000)
local window_start = now_ms - tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local answers = {}
for i, key in ipairs(KEYS) do
  local removed = redis.pcall('ZREMRANGEBYSCORE', key, '-inf', window_start)
  local count = type(removed) == 'number' and redis.call('ZCARD', key) or -1
  if count < 0 then
    answers[i] = -1
  elseif count >= limit then
    local oldest = redis.call('ZRANGE', key, count - limit, count - limit, 'WITHSCORES')
    answers[i] = math.max(1, tonumber(oldest[2]) - window_start)
  else
    redis.call('ZADD', key, now_ms, ARGV[i + 2])
    redis.call('PEXPIRE', key, ARGV[1])
    answers[i] = 0
  end
end
return answers
"""
# EVALSHA: the script's text crosses the wire once (SCRIPT LOAD), not with every message.
_SLIDING_WINDOW_SHA = hashlib.sha1(SLIDING_WINDOW.encode(), usedforsecurity=False).hexdigest()


# A bound on how long one call holds Redis (it runs nothing else meanwhile).
_MOST_PER_CALL = 200

# How much earlier than asked a message is counted here: Redis's clock and
# window are whole milliseconds, rounded down.
_MARGIN_S = 0.002


class RedisRateLimiter:
    """A sliding-window log per key in Redis, shared by every process; refusals it knows of, at once."""

    def __init__(self) -> None:
        self._counted_here = SlidingWindows()
        # The messages asked for while a call is out are counted in the next one: each
        # by the script, in order, so exact still, but one round trip for many.
        self._counts: RoundTrips[tuple[str, str], int] = RoundTrips(
            _count_together,
            failure=lambda reason: ConnectionError(f"counting in Redis failed: {reason}"),
            most_per_trip=_MOST_PER_CALL,
        )
        # Each message's member of the log: this limiter's own prefix and a count, unique
        # across processes without a uuid4 (and its os.urandom system call) per message.
        self._prefix = uuid.uuid4().hex
        self._counter = itertools.count()

    async def admit(self, *, key: str) -> float:
        """Count one message for `key` and return 0, or the seconds until one more is allowed."""
        asked_at = time.monotonic()
        wait = self._counted_here.wait(key, now=asked_at)
        if wait > 0:
            return wait
        wait_ms = await self._counts.ask((f"lets-talk:rate:{key}", f"{self._prefix}:{next(self._counter)}"))
        if wait_ms == 0:
            self._counted_here.add(key, at=asked_at - _MARGIN_S)
        return wait_ms / 1000


async def _count_together(asks: list[tuple[str, str]]) -> list[int | Exception]:
    """The script's answer for each (log key, member), in one call."""
    client = async_redis()  # this event loop's client (a test's loop is not the first one's)
    window_ms = int(settings.CHAT_RATE_WINDOW * 1000)
    keys = [log_key for log_key, _ in asks]
    arguments = [window_ms, settings.CHAT_RATE_LIMIT, *(member for _, member in asks)]
    try:
        answers = await client.evalsha(_SLIDING_WINDOW_SHA, len(keys), *keys, *arguments)
    except NoScriptError:
        # A new Redis, or one that lost its scripts (a restart, SCRIPT FLUSH): a script
        # that does not exist counted nothing, so the same call once more counts each once.
        await client.script_load(SLIDING_WINDOW)
        answers = await client.evalsha(_SLIDING_WINDOW_SHA, len(keys), *keys, *arguments)
    return [
        int(answer) if answer >= 0 else ConnectionError(f"counting in Redis failed: {log_key} holds no log")
        for answer, (log_key, _) in zip(answers, asks, strict=True)
    ]
