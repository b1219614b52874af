"""A socket's session deadline: renewed by fresh tickets, or the socket closes (4401).

A ticket carries its site session's deadline (accounts.sessions.socket_deadline:
the session's expiry, or its next provider re-check). A socket lives past the
ticket's own minute (a connect ticket), but never past that deadline unless
the page sends a fresh ticket over it ({"type": "refresh"}), which moves it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from typing import Any


class SessionDeadline:
    """Calls `on_passed` (which closes the socket) once the deadline passes unrenewed."""

    def __init__(self, on_passed: Callable[[], Coroutine[Any, Any, None]]) -> None:
        self._on_passed = on_passed
        self._timer: asyncio.TimerHandle | None = None
        self._task: asyncio.Task | None = None
        self.until: int | None = None

    def set(self, until: int | None) -> None:
        """Expect a renewal by `until` (Unix time); None: no deadline (a ticket minted outside a session)."""
        self.cancel()
        self.until = until
        if until is not None:
            delay = max(0.0, until - time.time())
            self._timer = asyncio.get_running_loop().call_later(delay, self._pass)

    def seconds_left(self) -> int | None:
        """Seconds until the deadline (for the page's renewal timer); None without one."""
        return None if self.until is None else max(0, int(self.until - time.time()))

    def cancel(self) -> None:
        """No deadline any more (the socket closed)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _pass(self) -> None:
        self._timer = None
        # Kept: a task nothing references may be collected before it runs.
        self._task = asyncio.get_running_loop().create_task(self._on_passed())
