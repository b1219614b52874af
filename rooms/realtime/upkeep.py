"""Per-process upkeep when processes share Redis (REDIS_URL).

Every PRESENCE_TTL / 3 seconds each process renews its sockets' presence,
reaps the connections of processes that died (announcing `user_left` for
their people), and checks that Redis still holds what it was given. Redis
keeps nothing on disk here: after a restart (or an outage, during which
broadcasts were lost) every socket of this process is closed with 4012, so
clients reconnect and resume from the room's event log (docs/DELIVERY.md).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable

from django.conf import settings

from rooms.realtime.hub import room_broadcast
from rooms.realtime.presence.base import SharedPresence
from rooms.realtime.protocol import outbound
from rooms.realtime.redis import async_redis
from rooms.realtime.registry import SocketRegistry
from rooms.realtime.ticker import Ticker

logger = logging.getLogger("rooms.upkeep")

EPOCH_KEY = "lets-talk:epoch"


class UpkeepTicker(Ticker):
    """The loop that keeps this process's part of shared presence true."""

    def __init__(
        self,
        *,
        registry: SocketRegistry,
        presence: SharedPresence,
        touched: Callable[[str], None] = lambda slug: None,
    ) -> None:
        super().__init__()
        self.registry = registry
        self.presence = presence
        # Tells dashboards a room's online count changed (rooms.realtime.activity).
        self.touched = touched
        self._epoch: str | None = None
        self._failed = False

    @staticmethod
    def interval() -> float:
        """Seconds between ticks: three renewals per PRESENCE_TTL."""
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
        live = [(s.room_slug, s.member, s.channel_name) for s in self.registry.sockets()]
        for room, member, version in await self.presence.renew(connections=live):
            if version is not None:
                user = outbound.member(user_id=member.id, name=member.name)
                await room_broadcast(room, outbound.user_joined(user), version=version)
                self.touched(room)
        for room, member, gone_at in await self.presence.reap():
            logger.info("reaped %s from %s: its server stopped renewing", member.id, room)
            user = outbound.member(user_id=member.id, name=member.name)
            await room_broadcast(room, outbound.user_left(user), version=gone_at)
            self.touched(room)

    async def redis_was_reset(self) -> bool:
        """True when Redis no longer holds the epoch this process saw (restarted or flushed)."""
        client = async_redis()
        await client.set(EPOCH_KEY, uuid.uuid4().hex, nx=True)
        raw = await client.get(EPOCH_KEY)
        epoch = raw.decode() if isinstance(raw, bytes) else raw  # None: flushed in between
        reset = self._epoch is not None and epoch != self._epoch
        self._epoch = epoch
        return reset

    async def restart_sockets(self) -> None:
        """Close every socket of this process with 4012: its clients resume from storage."""
        sockets = self.registry.sockets()
        logger.warning("Redis lost state or was unreachable: restarting %s sockets", len(sockets))
        for socket in sockets:
            try:
                await socket.restart()
            except Exception:
                # A socket closing right now: its disconnect() forgets it.
                logger.debug("could not restart %s", socket.channel_name, exc_info=True)
