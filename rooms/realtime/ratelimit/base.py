"""Per-user, per-room message rate limit (CHAT_RATE_LIMIT per CHAT_RATE_WINDOW s).

`RateLimiter` is the protocol; `memory.InMemoryRateLimiter` counts for one
process, `redis.RedisRateLimiter` for every process sharing Redis (REDIS_URL);
`rooms.realtime.process` picks one.
"""

from __future__ import annotations

from typing import Protocol


class RateLimiter(Protocol):
    """Counts messages per key (room and user) over a sliding window."""

    async def allow(self, *, key: str) -> bool:
        """Count one message for `key`; False when it goes past the limit."""
