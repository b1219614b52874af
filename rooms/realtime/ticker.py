"""A process's periodic task: one per event loop, started by the first socket that needs it."""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod


class Ticker(ABC):
    """Runs `run_forever` once on each event loop that asks for it (tests run several loops)."""

    def __init__(self) -> None:
        self._tasks: dict[asyncio.AbstractEventLoop, asyncio.Task[None]] = {}

    def ensure_running(self) -> None:
        """Start ticking on the running event loop, unless it already does."""
        loop = asyncio.get_running_loop()
        task = self._tasks.get(loop)
        if task is None or task.done():
            self._tasks[loop] = loop.create_task(self.run_forever())

    @abstractmethod
    async def run_forever(self) -> None:
        """Tick until the event loop ends."""
