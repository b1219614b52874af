"""The in-memory channel layer of the embedded default, with fan-out made cheap.

Channels' InMemoryChannelLayer does, for every group_send, one asyncio task,
one deepcopy and one name check per member, and scans every channel for
expired messages on every send *and every receive*: a broadcast to N sockets
costs O(N²). This subclass keeps its semantics (capacity, ChannelFull drops,
expiry, groups) but puts the event straight into each member's queue and
sweeps for expired messages at most once a second.

Sharing the event dict between recipients is safe because ours hold only
strings and consumers never change them; a layer for arbitrary apps copies.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

from channels.exceptions import ChannelFull
from channels.layers import InMemoryChannelLayer

SWEEP_INTERVAL_SECONDS = 1.0


class FanOutInMemoryChannelLayer(InMemoryChannelLayer):
    """InMemoryChannelLayer without per-recipient tasks and copies."""

    _last_sweep = 0.0

    def _sweep(self) -> None:
        now = time.monotonic()
        if now - self._last_sweep >= SWEEP_INTERVAL_SECONDS:
            self._last_sweep = now
            self._clean_expired()

    def _queue(self, channel: str) -> asyncio.Queue:
        queue = self.channels.get(channel)
        if queue is None:
            queue = self.channels[channel] = asyncio.Queue(maxsize=self.get_capacity(channel))
        return queue

    def _put(self, channel: str, message: dict) -> None:
        try:
            self._queue(channel).put_nowait((time.time() + self.expiry, message))
        except asyncio.QueueFull:
            raise ChannelFull(channel) from None

    async def send(self, channel: str, message: dict) -> None:
        """Send a message onto a channel (checked once, not copied)."""
        if not isinstance(message, dict):
            raise TypeError("message is not a dict")
        self.require_valid_channel_name(channel)
        self._sweep()
        self._put(channel, message)

    async def receive(self, channel: str) -> dict:
        """Receive the next message on a channel."""
        self._sweep()
        queue = self._queue(channel)
        try:
            _, message = await queue.get()
        finally:
            if queue.empty() and self.channels.get(channel) is queue:
                del self.channels[channel]
        return message

    async def group_send(self, group: str, message: dict) -> None:
        """Put the one event into every member's queue; a full queue drops it, as Channels does."""
        if not isinstance(message, dict):
            raise TypeError("message is not a dict")
        self.require_valid_group_name(group)
        self._sweep()
        for channel in list(self.groups.get(group, ())):
            with contextlib.suppress(ChannelFull):
                self._put(channel, message)
