"""What one socket's person is doing: typing (told to the room, throttled) and how far they have read.

Neither is a room event: typing is never stored or replayed, and read state
is one database write per READ_WRITE_INTERVAL at most, however often a page
reports `{"type": "read", "seq"}` (the latest seq wins; what is pending is
written when the socket closes).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from channels.db import database_sync_to_async

from accounts.models import User
from rooms.models import Room
from rooms.realtime.hub import room_broadcast_ephemeral
from rooms.realtime.protocol import outbound
from rooms.services import room_read_mark

logger = logging.getLogger("rooms.ws")

# Seconds between two writes of one socket's read state.
READ_WRITE_INTERVAL = 2.0
# Seconds between two typing frames one socket passes on (pages send one every
# few seconds while someone writes; receivers drop it after about 6 s).
TYPING_INTERVAL = 2.0


class TypingThrottle:
    """Passes one socket's typing on to its room at most every TYPING_INTERVAL; the rest is dropped."""

    def __init__(self, *, room: str, user: outbound.Frame) -> None:
        self._room = room
        self._frame = outbound.typing(user)
        self._user_id = int(user["id"])
        self._last = float("-inf")

    async def typing(self) -> None:
        """The person is writing: tell everyone else in the room, unless told a moment ago."""
        now = asyncio.get_running_loop().time()
        if now - self._last < TYPING_INTERVAL:
            return
        self._last = now
        await room_broadcast_ephemeral(self._room, self._frame, typist=self._user_id)


class ReadMarker:
    """One socket's read state on its way to the database."""

    def __init__(self, *, user: User, room: Room) -> None:
        self._user, self._room = user, room
        self._written = -1  # the seq last written
        self._wanted = -1  # the highest seq the page reported
        self._last_write = float("-inf")
        self._timer: asyncio.TimerHandle | None = None
        self._writing: asyncio.Task | None = None
        self._closed = False

    def saw(self, seq: int) -> None:
        """The page shows the room up to `seq`: write it now, or at the end of the interval."""
        if seq <= max(self._wanted, self._written):
            return
        self._wanted = seq
        self._schedule()

    def _schedule(self) -> None:
        if self._closed or self._timer is not None or self._writing is not None:
            return
        loop = asyncio.get_running_loop()
        delay = max(0.0, self._last_write + READ_WRITE_INTERVAL - loop.time())
        self._timer = loop.call_later(delay, self._start_write)

    async def flush(self) -> None:
        """Write what is pending now (the socket is closing); nothing is scheduled after it."""
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._writing is not None:
            with contextlib.suppress(Exception):
                await self._writing
        if self._wanted > self._written:
            await self._write()

    def _start_write(self) -> None:
        self._timer = None
        self._writing = asyncio.get_running_loop().create_task(self._write_then_follow())

    async def _write_then_follow(self) -> None:
        try:
            await self._write()
        finally:
            self._writing = None
        if self._wanted > self._written:
            self._schedule()  # reported meanwhile (or the write failed): the next interval writes it

    async def _write(self) -> None:
        seq = self._wanted
        self._last_write = asyncio.get_running_loop().time()
        try:
            await database_sync_to_async(room_read_mark)(user=self._user, room=self._room, seq=seq)
        except Exception:
            logger.exception("writing the read state failed in %r (user %s)", self._room.slug, self._user.pk)
            return
        self._written = max(self._written, seq)
