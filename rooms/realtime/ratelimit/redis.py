"""The rate limit shared by every process: a sliding-window log per key in Redis."""

from __future__ import annotations

import uuid

from django.conf import settings

from rooms.realtime.redis import async_redis

# KEYS: the key. ARGV: window (ms), limit, a unique member. The server's clock
# is the one clock all processes share.
SLIDING_WINDOW = """
local now = redis.call('TIME')
local now_ms = now[1] * 1000 + math.floor(now[2] / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now_ms - tonumber(ARGV[1]))
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], now_ms, ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
"""


class RedisRateLimiter:
    """A sliding-window log per key in Redis, shared by every process."""

    async def allow(self, *, key: str) -> bool:
        """Count one message for `key`; False when it goes past the limit."""
        window_ms = int(settings.CHAT_RATE_WINDOW * 1000)
        allowed = await async_redis().eval(
            SLIDING_WINDOW, 1, f"lets-talk:rate:{key}", window_ms, settings.CHAT_RATE_LIMIT, uuid.uuid4().hex
        )
        return bool(allowed)
