"""SmallQueue and SmallEvent: asyncio.Queue's and asyncio.Event's jobs, for one socket each, in less memory.

Every socket holds a few of them: its channel in the in-memory layer, its
server's receive queue, its server's "writable" event. An asyncio.Queue makes
four deques (its items, getters, putters and an Event's waiters) and an
asyncio.Event one, each about 760 bytes, for a queue that is nearly always
empty with one receiver waiting and an event nearly always set with no one
waiting: 3.8 KB a socket. These hold a deque only while items wait in it,
and a short list of whoever waits.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import Generic, TypeVar

Item = TypeVar("Item")


class SmallQueue(Generic[Item]):
    """A FIFO queue for asyncio, bounded by `capacity` (0: unbounded)."""

    __slots__ = ("capacity", "items", "receivers")

    def __init__(self, capacity: int = 0) -> None:
        self.capacity = capacity
        # Made for the first item, dropped with the last.
        self.items: deque[Item] | None = None
        self.receivers: list[asyncio.Future[None]] = []

    def empty(self) -> bool:
        return not self.items

    @property
    def idle(self) -> bool:
        """Nothing waits in it and no one waits on it."""
        return not self.items and not self.receivers

    def put_nowait(self, item: Item) -> bool:
        """Add an item, False if the queue is full; the first receiver waiting wakes."""
        if self.items is None:
            self.items = deque()
        elif self.capacity and len(self.items) >= self.capacity:
            return False
        self.items.append(item)
        self._wake_one()
        return True

    async def get(self) -> Item:
        """The oldest item, once there is one."""
        while not self.items:
            receiver = asyncio.get_running_loop().create_future()
            self.receivers.append(receiver)
            try:
                await receiver
            except asyncio.CancelledError:
                if self.items and not receiver.cancelled():
                    self._wake_one()  # woken, then cancelled before it ran: the next receiver takes the item
                raise
            finally:
                # Only now: a receiver woken but not yet run still counts as waiting (see idle).
                self.receivers.remove(receiver)
        item = self.items.popleft()
        if not self.items:
            self.items = None
        return item

    def drop_leading(self, matches: Callable[[Item], bool]) -> bool:
        """Drop the items at the head that match (say, past their expiry); whether there were any."""
        dropped = False
        while self.items and matches(self.items[0]):
            self.items.popleft()
            dropped = True
        if not self.items:
            self.items = None
        return dropped

    def _wake_one(self) -> None:
        for receiver in self.receivers:
            if not receiver.done():
                receiver.set_result(None)
                return


class SmallEvent:
    """asyncio.Event's is_set, set, clear and wait."""

    __slots__ = ("_set", "_waiters")

    def __init__(self, *, is_set: bool = False) -> None:
        self._set = is_set
        self._waiters: list[asyncio.Future[None]] | None = None

    def is_set(self) -> bool:
        return self._set

    def set(self) -> None:
        self._set = True
        waiters, self._waiters = self._waiters, None
        for waiter in waiters or ():
            if not waiter.done():
                waiter.set_result(None)

    def clear(self) -> None:
        self._set = False

    async def wait(self) -> bool:
        if self._set:
            return True
        waiter = asyncio.get_running_loop().create_future()
        if self._waiters is None:
            self._waiters = []
        self._waiters.append(waiter)
        try:
            await waiter
        finally:
            if self._waiters is not None and waiter in self._waiters:
                self._waiters.remove(waiter)
        return True
