"""Which rooms' counts changed on this process, told to every dashboard at most every ACTIVITY_INTERVAL.

A message or a join costs the hot path one set insertion; each dashboard
then reads its own counts for the rooms named (a few queries), so a busy
room costs each dashboard a few queries a second, not a few per message.
"""

from __future__ import annotations

import asyncio
import logging

from channels.layers import get_channel_layer

from rooms.realtime.protocol.layer import DASHBOARD_GROUP, dashboard_activity
from rooms.realtime.ticker import Ticker

logger = logging.getLogger("rooms.activity")

ACTIVITY_INTERVAL = 1.0


class ActivityTicker(Ticker):
    """Collects the rooms touched here and sends their names to the dashboard group once a tick."""

    def __init__(self) -> None:
        super().__init__()
        self._touched: set[str] = set()

    def touch(self, slug: str) -> None:
        """Something in this room changed what dashboards show (its counts, its last activity)."""
        self._touched.add(slug)

    async def run_forever(self) -> None:
        """Tick until the event loop ends; a failed tick (Redis away) loses only that tick's names."""
        while True:
            await asyncio.sleep(ACTIVITY_INTERVAL)
            try:
                await self.tick()
            except Exception:
                logger.exception("telling dashboards of room activity failed")

    async def tick(self) -> None:
        """Send the rooms touched since the last tick to every dashboard, on every process."""
        if not self._touched:
            return
        rooms, self._touched = sorted(self._touched), set()
        await get_channel_layer().group_send(DASHBOARD_GROUP, dashboard_activity(rooms=rooms))
