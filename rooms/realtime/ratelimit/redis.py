"""The rate limit shared by every process: a sliding-window log per key in Redis."""

from __future__ import annotations

import uuid

from django.conf import settings

from rooms.realtime.redis import async_redis

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


class RedisRateLimiter:
    """A sliding-window log per key in Redis, shared by every process."""

    async def admit(self, *, key: str) -> float:
        """Count one message for `key` and return 0, or the seconds until one more is allowed."""
        window_ms = int(settings.CHAT_RATE_WINDOW * 1000)
        wait_ms = await async_redis().eval(
            SLIDING_WINDOW, 1, f"lets-talk:rate:{key}", window_ms, settings.CHAT_RATE_LIMIT, uuid.uuid4().hex
        )
        return int(wait_ms) / 1000
