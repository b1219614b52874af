"""Per-user, per-room message rate limit (CHAT_RATE_LIMIT per CHAT_RATE_WINDOW s).

`RateLimiter` is the protocol; `memory.InMemoryRateLimiter` counts for one
process, `redis.RedisRateLimiter` for every process sharing Redis (REDIS_URL);
`rooms.realtime.process` picks one.
"""

from __future__ import annotations

from typing import Protocol


class RateLimiter(Protocol):
    """Counts messages per key (room and user) over a sliding window."""

    async def admit(self, *, key: str) -> float:
        """Count one message for `key` and return 0; past the limit, count nothing and
        return the seconds until the window takes one more (the `retry_after` of the refusal)."""
