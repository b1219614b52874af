"""Per-user, per-room message rate limit (CHAT_RATE_LIMIT per CHAT_RATE_WINDOW s).

`RateLimiter` is the interface; `InMemoryRateLimiter` counts for one process,
`RedisRateLimiter` for every process sharing Redis (REDIS_URL).
"""

from __future__ import annotations

import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Protocol

from django.conf import settings


class RateLimiter(Protocol):
    async def allow(self, *, key: str) -> bool:
        """Count one message for `key`; False when it goes past the limit."""


@dataclass
class InMemoryRateLimiter:
    """A sliding-window log per key, for a single process."""

    _sent: dict[str, deque[float]] = field(default_factory=dict)

    async def allow(self, *, key: str) -> bool:
        """Count one message for `key`; False when it goes past the limit."""
        now = time.monotonic()
        window_start = now - settings.CHAT_RATE_WINDOW
        sent = self._sent.setdefault(key, deque())
        while sent and sent[0] <= window_start:
            sent.popleft()
        if len(sent) >= settings.CHAT_RATE_LIMIT:
            return False
        sent.append(now)
        if len(self._sent) > 10_000:
            self._forget_idle(window_start)
        return True

    def _forget_idle(self, window_start: float) -> None:
        # Keys of people who stopped talking would otherwise pile up forever.
        for key in [k for k, sent in self._sent.items() if not sent or sent[-1] <= window_start]:
            del self._sent[key]


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
        from rooms.redis_client import async_redis

        window_ms = int(settings.CHAT_RATE_WINDOW * 1000)
        allowed = await async_redis().eval(
            SLIDING_WINDOW, 1, f"lets-talk:rate:{key}", window_ms, settings.CHAT_RATE_LIMIT, uuid.uuid4().hex
        )
        return bool(allowed)


_limiter: RateLimiter | None = None


def get_rate_limiter() -> RateLimiter:
    """The rate limiter this process uses: Redis when REDIS_URL is set."""
    global _limiter
    if _limiter is None:
        _limiter = RedisRateLimiter() if settings.REDIS_URL else InMemoryRateLimiter()
    return _limiter
