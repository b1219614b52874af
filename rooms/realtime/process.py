"""This process's transport state, built on first use: the one way to reach it.

The room hub, the socket registry, presence, the rate limiter, the queue of
messages to store and (with Redis) the upkeep ticker live as long as the
process; the backends follow REDIS_URL. Redis-backed ones are imported only
then, so the embedded default never loads redis. Tests start each case from
`reset()`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings

from rooms.realtime.activity import ActivityTicker
from rooms.realtime.group_commit import GroupCommit
from rooms.realtime.hub import RoomHub
from rooms.realtime.position import PositionTicker
from rooms.realtime.presence.base import Presence
from rooms.realtime.presence.memory import InMemoryPresence
from rooms.realtime.ratelimit.base import RateLimiter
from rooms.realtime.ratelimit.memory import InMemoryRateLimiter
from rooms.realtime.registry import SocketRegistry

if TYPE_CHECKING:
    from rooms.realtime.upkeep import UpkeepTicker


@dataclass
class Transport:
    """Everything the transport keeps for this process."""

    hub: RoomHub
    registry: SocketRegistry
    presence: Presence
    rate_limiter: RateLimiter
    # Stores the messages sent here, many to a transaction when they come faster than one commit.
    messages: GroupCommit
    # Tells local sockets where their rooms' event logs stand.
    position: PositionTicker
    # Tells every dashboard which rooms' counts changed here.
    activity: ActivityTicker
    # Only when processes share Redis: renews presence and reaps dead processes.
    ticker: UpkeepTicker | None


def _build() -> Transport:
    registry, hub = SocketRegistry(), RoomHub()
    if not settings.REDIS_URL:
        return Transport(
            hub=hub,
            registry=registry,
            presence=InMemoryPresence(),
            rate_limiter=InMemoryRateLimiter(),
            messages=GroupCommit(),
            position=PositionTicker(hub=hub),
            activity=ActivityTicker(),
            ticker=None,
        )
    from rooms.realtime.presence.redis import RedisPresence
    from rooms.realtime.ratelimit.redis import RedisRateLimiter
    from rooms.realtime.upkeep import UpkeepTicker

    presence, activity = RedisPresence(), ActivityTicker()
    return Transport(
        hub=hub,
        registry=registry,
        presence=presence,
        rate_limiter=RedisRateLimiter(),
        messages=GroupCommit(),
        position=PositionTicker(hub=hub),
        activity=activity,
        ticker=UpkeepTicker(registry=registry, presence=presence, touched=activity.touch),
    )


_current: Transport | None = None


def transport() -> Transport:
    """This process's transport state."""
    global _current
    if _current is None:
        _current = _build()
    return _current


def reset() -> None:
    """Forget the process's transport state: the next use builds it afresh (tests, settings changes)."""
    global _current
    _current = None
