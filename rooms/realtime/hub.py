"""This process's sockets per room, and one channel-layer subscription per room.

Channels' usual pattern puts every socket in its room's group, so a broadcast
becomes one channel-layer message, one receive task and one dispatch per
socket. Here the process holds one channel per room in that group; what
arrives on it is written, already encoded, straight to each local socket.
Everything else (sign-out, mutes) still reaches consumers through their own
channels and the per-user group.

Presence news waits up to CHAT_PRESENCE_COALESCE, or until the room's next
frame (so a newcomer's join is never overtaken by what they say), and the
changes that met meanwhile go out as one presence_diff, each user once: a
connect storm of N joins costs each socket a frame per interval, not N frames.
A single change goes out as it always did (user_joined or user_left).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings

from rooms.access import room_user_ids_allowed
from rooms.realtime.presence_batch import PresenceBatch
from rooms.realtime.protocol.layer import RoomEvent, is_logged_room_event, room_event, room_group
from rooms.realtime.wire.frames import SharedFrame

logger = logging.getLogger("rooms.hub")


class RoomSocket(Protocol):
    """What the hub needs of a consumer; `send` is the frame's ASGI message, shared by all.

    `gather` takes a room message (no presence version) for this loop pass's write, when
    nothing else is due for the socket; False: deliver() it.
    """

    channel_name: str
    gather: Callable[[SharedFrame], bool]

    async def deliver(self, event: dict, send: dict) -> None: ...

    async def close_room(self, send: dict) -> None: ...

    async def deliver_ephemeral(self, event: dict, send: dict) -> None: ...

    @property
    def user_id(self) -> int: ...

    async def lose_access(self) -> None: ...


@dataclass
class _Room:
    channel: str
    task: asyncio.Task
    sockets: dict[str, RoomSocket] = field(default_factory=dict)
    # One fan-out at a time: presence news sent by the timer never interleaves with a frame.
    sending: asyncio.Lock = field(default_factory=asyncio.Lock)
    # Presence news waiting to go out, and the task that sends it when it is due.
    news: list[dict] = field(default_factory=list)
    news_task: asyncio.Task | None = None

    def stop(self) -> None:
        self.task.cancel()
        if self.news_task is not None:
            self.news_task.cancel()


_KINDS = frozenset(RoomEvent)


class RoomHub:
    """Fans a room's frames out to this process's sockets in that room."""

    def __init__(self) -> None:
        self._rooms: dict[str, _Room] = {}

    async def add(self, slug: str, socket: RoomSocket) -> None:
        """Deliver this room's frames to `socket` from now on."""
        room = self._rooms.get(slug)
        if room is None or room.task.done():
            layer = get_channel_layer()
            channel = await layer.new_channel()
            await layer.group_add(room_group(slug), channel)
            room = self._rooms.get(slug)  # another socket may have set it up meanwhile
            if room is None or room.task.done():
                task = asyncio.get_running_loop().create_task(self._pump(slug, channel))
                room = self._rooms[slug] = _Room(channel=channel, task=task)
            else:
                await layer.group_discard(room_group(slug), channel)
        room.sockets[socket.channel_name] = socket

    async def remove(self, slug: str, socket: RoomSocket) -> None:
        """Stop delivering to `socket`; leave the group when the room has no socket here."""
        room = self._rooms.get(slug)
        if room is None or room.sockets.pop(socket.channel_name, None) is None or room.sockets:
            return
        del self._rooms[slug]
        room.stop()
        with contextlib.suppress(asyncio.CancelledError):
            await room.task
        await get_channel_layer().group_discard(room_group(slug), room.channel)

    def slugs(self) -> list[str]:
        """The rooms with a socket on this process."""
        return list(self._rooms)

    def sockets(self, slug: str) -> list[RoomSocket]:
        """This process's sockets in the room."""
        room = self._rooms.get(slug)
        return list(room.sockets.values()) if room else []

    async def _pump(self, slug: str, channel: str) -> None:
        layer = get_channel_layer()
        while True:
            event = await layer.receive(channel)
            try:
                await self.deliver(slug, event)
            except Exception:
                logger.exception("delivering %s to %r failed", event.get("type"), slug)

    async def deliver(self, slug: str, event: dict) -> None:
        """Write one room event to every local socket of the room (but the one it skips)."""
        kind = event["type"]
        room = self._rooms.get(slug)
        if kind not in _KINDS:
            # A newer process's event (a rolling deploy): never a reason to close anyone.
            logger.warning("ignoring room event of unknown type %r in %r", kind, slug)
            return
        if room is None:
            return
        if "presence" in event and settings.CHAT_PRESENCE_COALESCE > 0:
            self._hold_news(slug, room, event)
            return
        async with room.sending:
            if room.news:
                await self._send_news_now(slug, room)
            await self._fan_out(slug, room, event)

    def _hold_news(self, slug: str, room: _Room, event: dict) -> None:
        room.news.append(event)
        if room.news_task is None:
            room.news_task = asyncio.get_running_loop().create_task(self._send_news_when_due(slug, room))

    async def _send_news_when_due(self, slug: str, room: _Room) -> None:
        """Send what waits once it is due, until nothing waits (news may come during a slow fan-out)."""
        try:
            while room.news:
                await asyncio.sleep(settings.CHAT_PRESENCE_COALESCE)
                async with room.sending:
                    if room.news:  # unless the room's next frame took it
                        await self._send_news_now(slug, room)
        except Exception:
            logger.exception("sending presence news to %r failed", slug)
        finally:
            room.news_task = None

    async def _send_news_now(self, slug: str, room: _Room) -> None:
        """The waiting presence news, as one room event: the change itself when alone, else a batch."""
        news = room.news
        room.news = []
        await self._fan_out(slug, room, news[0] if len(news) == 1 else PresenceBatch(news).event())

    async def _fan_out(self, slug: str, room: _Room, event: dict) -> None:
        kind = event["type"]
        if kind == RoomEvent.ACCESS:
            await self._recheck_access(slug, list(room.sockets.values()))
            return
        skip = event.get("skip")
        send = SharedFrame(event["frame"])
        # Decided once per event, not per socket: this loop runs for every recipient.
        frame, ephemeral = kind == RoomEvent.FRAME, kind == RoomEvent.EPHEMERAL
        gathers = is_logged_room_event(event)  # presence news is checked against each roster
        for name, socket in list(room.sockets.items()):
            if name == skip:
                continue
            try:
                if frame:
                    # Most recipients of a message: gathered at once, no coroutine per socket.
                    if not (gathers and socket.gather(send)):
                        await socket.deliver(event, send)
                elif ephemeral:
                    await socket.deliver_ephemeral(event, send)
                else:
                    await socket.close_room(send)
            except Exception:
                # A socket closing right now: its disconnect() removes it.
                logger.debug("could not write to %s", name, exc_info=True)

    @staticmethod
    async def _recheck_access(slug: str, sockets: list[RoomSocket]) -> None:
        """Close the sockets of those who may no longer enter the room (4403): one query for all.

        Before the room's next frame, which waits behind this: no one who lost the room reads on.
        """
        people = {socket.user_id for socket in sockets}
        allowed = await database_sync_to_async(room_user_ids_allowed)(slug=slug, user_ids=people)
        await asyncio.gather(*(socket.lose_access() for socket in sockets if socket.user_id not in allowed))


async def room_broadcast(room: str, frame: dict, skip: str | None = None, version: int | None = None) -> None:
    """Send a frame to everyone in a room, on every process, encoded once (but to `skip`).

    `version`: the presence version of a user_joined or user_left frame.
    """
    await get_channel_layer().group_send(room_group(room), room_event(frame, skip=skip, version=version))


async def room_broadcast_ephemeral(room: str, frame: dict, *, typist: int) -> None:
    """Send a frame worth nothing late (typing) to everyone in a room but the sockets of `typist`."""
    event = room_event(frame, kind=RoomEvent.EPHEMERAL, typist=typist)
    await get_channel_layer().group_send(room_group(room), event)
