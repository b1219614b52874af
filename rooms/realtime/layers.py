"""The in-memory channel layer of the embedded default, with fan-out made cheap.

Channels' InMemoryChannelLayer does, for every group_send, one asyncio task,
one deepcopy and one name check per member, and scans every channel for
expired messages on every send *and every receive*: a broadcast to N sockets
costs O(N²). This subclass keeps its semantics (capacity, ChannelFull drops,
expiry, groups) but puts the event straight into each member's queue and
sweeps for expired messages at most once a second. Each channel's queue is
a SmallQueue: every socket has a channel, and an asyncio.Queue costs 3 KB.

Group memberships last until discarded. Channels' own layer ends those older
than a day (group_expiry): the hub joins a room's group once, when the room's
first socket here arrives, so a room never empty for a day went silent.

Sharing the event dict between recipients is safe because ours hold only
strings and consumers never change them; a layer for arbitrary apps copies.
"""

from __future__ import annotations

import contextlib
import time

from channels.exceptions import ChannelFull
from channels.layers import InMemoryChannelLayer

from rooms.realtime.small_queues import SmallQueue

SWEEP_INTERVAL_SECONDS = 1.0


class FanOutInMemoryChannelLayer(InMemoryChannelLayer):
    """InMemoryChannelLayer without per-recipient tasks and copies."""

    _last_sweep = 0.0

    def _sweep(self) -> None:
        now = time.monotonic()
        if now - self._last_sweep >= SWEEP_INTERVAL_SECONDS:
            self._last_sweep = now
            self._clean_expired()

    def _clean_expired(self) -> None:
        """Drop expired messages and their channels from every group, as Channels does; never a membership."""
        now = time.time()
        for channel, queue in list(self.channels.items()):
            if queue.drop_leading(lambda entry: entry[0] < now):
                self._remove_from_groups(channel)
                if queue.idle:
                    self.channels.pop(channel, None)

    def _queue(self, channel: str) -> SmallQueue[tuple[float, dict]]:
        queue = self.channels.get(channel)
        if queue is None:
            queue = self.channels[channel] = SmallQueue(self.get_capacity(channel))
        return queue

    def _put(self, channel: str, message: dict) -> None:
        if not self._queue(channel).put_nowait((time.time() + self.expiry, message)):
            raise ChannelFull(channel)

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
            if queue.idle and self.channels.get(channel) is queue:
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
