"""The rate limit for one process: a sliding-window log per key."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field

from django.conf import settings


@dataclass
class InMemoryRateLimiter:
    """A sliding-window log per key, for a single process."""

    _sent: dict[str, deque[float]] = field(default_factory=dict)

    async def admit(self, *, key: str) -> float:
        """Count one message for `key` and return 0, or the seconds until one more is allowed."""
        now = time.monotonic()
        window_start = now - settings.CHAT_RATE_WINDOW
        sent = self._sent.setdefault(key, deque())
        while sent and sent[0] <= window_start:
            sent.popleft()
        if len(sent) >= settings.CHAT_RATE_LIMIT:
            # The oldest message in the window leaves it first.
            return sent[-settings.CHAT_RATE_LIMIT] - window_start
        sent.append(now)
        if len(self._sent) > 10_000:
            self._forget_idle(window_start)
        return 0.0

    def _forget_idle(self, window_start: float) -> None:
        # Keys of people who stopped talking would otherwise pile up forever.
        for key in [k for k, sent in self._sent.items() if not sent or sent[-1] <= window_start]:
            del self._sent[key]
