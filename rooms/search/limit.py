"""Searches per person: CHAT_SEARCH_RATE_LIMIT per CHAT_SEARCH_RATE_WINDOW seconds.

A search costs the database far more than a message, so one person's
script cannot keep it busy for everyone. Counted as the message limit is
(a sliding-window log): in Redis, shared by every process, when REDIS_URL is
set; otherwise in this process. Views are sync, so this is too.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import deque

from django.conf import settings

from rooms.realtime.ratelimit.redis import SLIDING_WINDOW
from rooms.realtime.redis import sync_redis

_lock = threading.Lock()
_searched: dict[int, deque[float]] = {}


def search_admit(*, user_id: int) -> float:
    """Count one search by `user_id` and return 0; past the limit, the seconds until one more is allowed."""
    limit, window = settings.CHAT_SEARCH_RATE_LIMIT, settings.CHAT_SEARCH_RATE_WINDOW
    if settings.REDIS_URL:
        key = f"lets-talk:rate:search:{user_id}"
        [wait_ms] = sync_redis().register_script(SLIDING_WINDOW)(
            keys=[key], args=[int(window * 1000), limit, uuid.uuid4().hex]
        )
        if wait_ms < 0:
            raise ConnectionError(f"counting in Redis failed: {key} holds no log")
        return int(wait_ms) / 1000
    now = time.monotonic()
    with _lock:
        searched = _searched.setdefault(user_id, deque())
        while searched and searched[0] <= now - window:
            searched.popleft()
        if len(searched) >= limit:
            return searched[-limit] - (now - window)
        searched.append(now)
        if len(_searched) > 10_000:  # people who stopped searching would otherwise pile up
            for idle in [key for key, times in _searched.items() if not times or times[-1] <= now - window]:
                del _searched[idle]
        return 0.0


def search_limits_reset() -> None:
    """Forget this process's counts (a fresh process, for tests)."""
    with _lock:
        _searched.clear()
