"""The rate limit for one process: a sliding-window log per key."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field

from django.conf import settings


@dataclass
class SlidingWindows:
    """When each key's messages of the last CHAT_RATE_WINDOW seconds were counted (time.monotonic)."""

    _sent: dict[str, deque[float]] = field(default_factory=dict)

    def wait(self, key: str, *, now: float) -> float:
        """0 while `key` may send one more, else the seconds until its window takes one more."""
        window_start = now - settings.CHAT_RATE_WINDOW
        sent = self._sent.get(key)
        if not sent:
            return 0.0
        while sent and sent[0] <= window_start:
            sent.popleft()
        if len(sent) >= settings.CHAT_RATE_LIMIT:
            # The oldest message in the window leaves it first.
            return sent[-settings.CHAT_RATE_LIMIT] - window_start
        return 0.0

    def add(self, key: str, *, at: float) -> None:
        """Count one message for `key`, sent at `at`."""
        self._sent.setdefault(key, deque()).append(at)
        if len(self._sent) > 10_000:
            self._forget_idle(at - settings.CHAT_RATE_WINDOW)

    def _forget_idle(self, window_start: float) -> None:
        # Keys of people who stopped talking would otherwise pile up forever.
        for key in [k for k, sent in self._sent.items() if not sent or sent[-1] <= window_start]:
            del self._sent[key]


@dataclass
class InMemoryRateLimiter:
    """A sliding-window log per key, for a single process."""

    _windows: SlidingWindows = field(default_factory=SlidingWindows)

    async def admit(self, *, key: str) -> float:
        """Count one message for `key` and return 0, or the seconds until one more is allowed."""
        now = time.monotonic()
        wait = self._windows.wait(key, now=now)
        if wait == 0:
            self._windows.add(key, at=now)
        return wait
