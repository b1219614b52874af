"""Every CHAT_POSITION_INTERVAL seconds, each local socket hears where its room's event log stands.

The channel layer delivers at most once: a client that lost the room's last
frame would wait for the next event to notice. The `position` frame (seq and
epoch, read from the database, not from what this process saw) lets it notice
within the interval and fetch what it missed. One query per tick for every
room with a socket here; one encoded frame per room.
"""

from __future__ import annotations

import asyncio
import logging

from channels.db import database_sync_to_async
from django.conf import settings

from rooms.realtime.hub import RoomHub
from rooms.realtime.protocol import outbound
from rooms.realtime.protocol.layer import room_event
from rooms.realtime.ticker import Ticker
from rooms.selectors import room_positions

logger = logging.getLogger("rooms.position")


class PositionTicker(Ticker):
    """The loop that tells this process's sockets their rooms' current seq."""

    def __init__(self, *, hub: RoomHub) -> None:
        super().__init__()
        self.hub = hub

    async def run_forever(self) -> None:
        """Tick until the event loop ends; a failed tick (database away) is tried again next time."""
        while True:
            await asyncio.sleep(settings.CHAT_POSITION_INTERVAL)
            try:
                await self.tick()
            except Exception:
                logger.exception("telling sockets their rooms' positions failed")

    async def tick(self) -> None:
        """Send each room with a socket here its current seq and epoch."""
        slugs = self.hub.slugs()
        if not slugs:
            return
        positions = await database_sync_to_async(room_positions)(slugs=slugs)
        for slug, (seq, epoch) in positions.items():
            await self.hub.deliver(slug, room_event(outbound.position(seq=seq, epoch=epoch)))
