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
from redis.asyncio import Redis
from redis.exceptions import NoScriptError

from rooms.realtime.ratelimit.memory import SlidingWindows
from rooms.realtime.redis import async_redis
from rooms.realtime.round_trips import RoundTrips

# KEYS: the key. ARGV: window (ms), limit, a unique member. Returns 0 when the
# message is counted, else the ms until the window takes one more (at least 1).
# The server's clock is the one clock all processes share.
SLIDING_WINDOW = """
local now = redis.call('TIME')
local now_ms = now[1] * 1000 + math.floor(now[2] / 1000)
local window_start = now_ms - tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', window_start)
local count = redis.call('ZCARD', KEYS[1])
local limit = tonumber(ARGV[2])
if count >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], count - limit, count - limit, 'WITHSCORES')
  return math.max(1, tonumber(oldest[2]) - window_start)
end
redis.call('ZADD', KEYS[1], now_ms, ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 0
"""
# EVALSHA: the script's text crosses the wire once (SCRIPT LOAD), not with every message.
_SLIDING_WINDOW_SHA = hashlib.sha1(SLIDING_WINDOW.encode(), usedforsecurity=False).hexdigest()


# How much earlier than asked a message is counted here: Redis's clock and
# window are whole milliseconds, rounded down.
_MARGIN_S = 0.002


class RedisRateLimiter:
    """A sliding-window log per key in Redis, shared by every process; refusals it knows of, at once."""

    def __init__(self) -> None:
        self._counted_here = SlidingWindows()
        # The messages asked for while a pipeline is out are counted in the next one: each
        # by the script, so exact still, but one round trip for many.
        self._counts: RoundTrips[tuple[str, str], int] = RoundTrips(
            _count_together, failure=lambda reason: ConnectionError(f"counting in Redis failed: {reason}")
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
    """The script's answer for each (log key, member), all in one pipeline."""
    client = async_redis()  # this event loop's client (a test's loop is not the first one's)
    answers = await _run_script(client, asks)
    not_loaded = [index for index, answer in enumerate(answers) if isinstance(answer, NoScriptError)]
    if not_loaded:
        # A new Redis, or one that lost its scripts (a restart, SCRIPT FLUSH). Only these
        # are asked again: the others are counted, whatever happens to the second trip.
        try:
            await client.script_load(SLIDING_WINDOW)
            retried = await _run_script(client, [asks[index] for index in not_loaded])
        except Exception as error:
            retried = [ConnectionError(f"counting in Redis failed: {error}") for _ in not_loaded]
        for index, answer in zip(not_loaded, retried, strict=True):
            answers[index] = answer
    return answers


async def _run_script(client: Redis, asks: list[tuple[str, str]]) -> list[int | Exception]:
    window_ms = int(settings.CHAT_RATE_WINDOW * 1000)
    pipeline = client.pipeline(transaction=False)
    for log_key, member in asks:
        pipeline.evalsha(_SLIDING_WINDOW_SHA, 1, log_key, window_ms, settings.CHAT_RATE_LIMIT, member)
    replies = await pipeline.execute(raise_on_error=False)
    return [reply if isinstance(reply, Exception) else int(reply) for reply in replies]
