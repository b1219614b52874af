"""Per-process upkeep when processes share Redis (REDIS_URL).

Every PRESENCE_TTL / 3 seconds each process renews its sockets' presence,
reaps the connections of processes that died (announcing `user_left` for
their people), and checks that Redis still holds what it was given. Redis
keeps nothing on disk here: after a restart (or an outage, during which
broadcasts were lost) every socket of this process is closed with 4012, so
clients reconnect and resume with `after` from the stored messages.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
import weakref
from collections import Counter
from typing import Protocol

from django.conf import settings

from rooms import events
from rooms.hub import broadcast
from rooms.presence import Member, get_presence

logger = logging.getLogger("rooms.upkeep")

EPOCH_KEY = "lets-talk:epoch"


class LiveSocket(Protocol):
    """What upkeep needs of a consumer."""

    room_slug: str
    member: Member
    channel_name: str

    async def restart(self) -> None: ...


class Upkeep:
    """This process's sockets, and the loop that keeps their shared state true."""

    def __init__(self) -> None:
        self.sockets: weakref.WeakSet[LiveSocket] = weakref.WeakSet()
        self.per_user: Counter[int] = Counter()
        self._tasks: dict[asyncio.AbstractEventLoop, asyncio.Task] = {}
        self._epoch: str | None = None
        self._failed = False

    def admit(self, socket: LiveSocket) -> bool:
        """Track a socket joining a room, unless its user is at CHAT_MAX_SOCKETS_PER_USER here.

        Checked and counted in one step (no await between), so concurrent
        handshakes cannot overshoot the cap. Starts the loop when Redis is shared.
        """
        if self.per_user[socket.member.id] >= settings.CHAT_MAX_SOCKETS_PER_USER:
            return False
        self.per_user[socket.member.id] += 1
        self.sockets.add(socket)
        if settings.REDIS_URL:
            loop = asyncio.get_running_loop()
            task = self._tasks.get(loop)
            if task is None or task.done():
                self._tasks[loop] = loop.create_task(self.run_forever())
        return True

    def forget(self, socket: LiveSocket) -> None:
        """Stop tracking a socket that left."""
        if socket in self.sockets:
            self.sockets.discard(socket)
            self.per_user[socket.member.id] -= 1
            if self.per_user[socket.member.id] <= 0:
                del self.per_user[socket.member.id]

    @staticmethod
    def interval() -> float:
        return max(settings.PRESENCE_TTL / 3, 0.5)

    async def run_forever(self) -> None:
        """Tick until the event loop ends; a failed tick is retried on the next one."""
        while True:
            await asyncio.sleep(self.interval())
            try:
                await self.tick()
            except Exception as exc:
                if not self._failed:
                    logger.error("upkeep failed (Redis down?): %s", exc)
                self._failed = True

    async def tick(self) -> None:
        """Notice a Redis reset, renew our presence, reap dead processes' presence."""
        if await self.redis_was_reset() or self._failed:
            self._failed = False
            await self.restart_sockets()
            return
        presence = get_presence()
        live = [(s.room_slug, s.member, s.channel_name) for s in list(self.sockets)]
        for room, member, version in await presence.renew(connections=live):
            if version is not None:
                user = events.member(user_id=member.id, name=member.name)
                await broadcast(room, events.user_joined(user), version=version)
        for room, member, version in await presence.reap():
            logger.info("reaped %s from %s: its server stopped renewing", member.id, room)
            user = events.member(user_id=member.id, name=member.name)
            await broadcast(room, events.user_left(user), version=version)

    async def redis_was_reset(self) -> bool:
        """True when Redis no longer holds the epoch this process saw (restarted or flushed)."""
        # Imported here: the embedded default (no REDIS_URL) never loads redis.
        from rooms.redis_client import async_redis

        client = async_redis()
        await client.set(EPOCH_KEY, uuid.uuid4().hex, nx=True)
        epoch = (await client.get(EPOCH_KEY)).decode()
        reset = self._epoch is not None and epoch != self._epoch
        self._epoch = epoch
        return reset

    async def restart_sockets(self) -> None:
        """Close every socket of this process with 4012: its clients resume from storage."""
        sockets = list(self.sockets)
        logger.warning("Redis lost state or was unreachable: restarting %s sockets", len(sockets))
        for socket in sockets:
            try:
                await socket.restart()
            except Exception:
                # A socket closing right now: its disconnect() forgets it.
                logger.debug("could not restart %s", socket.channel_name, exc_info=True)


upkeep = Upkeep()
