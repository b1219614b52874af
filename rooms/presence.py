"""Who is online in which room, counted per (room, user id) over live connections.

`Presence` is the interface the consumer and views use; `InMemoryPresence`
serves one process (the embedded default), `rooms.presence_redis.RedisPresence`
many processes sharing Redis (REDIS_URL).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Member:
    """A user present in a room."""

    id: int
    name: str


class Presence(Protocol):
    async def join(self, *, room: str, member: Member, connection: str) -> bool:
        """Record a connection; True when it is the member's first in the room."""

    async def leave(self, *, room: str, member: Member, connection: str) -> bool:
        """Forget a connection; True when it was the member's last in the room."""

    async def members(self, *, room: str) -> list[Member]:
        """Everyone with at least one connection to the room."""

    def counts(self, *, rooms: list[str]) -> dict[str, int]:
        """How many people are in each room (sync: the dashboard's views call it)."""


@dataclass
class _Present:
    """One user in one room: their latest display name and their live connections."""

    name: str
    connections: set[str] = field(default_factory=set)


@dataclass
class InMemoryPresence:
    """Presence for a single process; all calls run on its event loop."""

    # room -> user id -> that user's name and connections. Keyed by id, not
    # Member: a name changed between two tabs must not count the user twice.
    _rooms: dict[str, dict[int, _Present]] = field(default_factory=dict)

    async def join(self, *, room: str, member: Member, connection: str) -> bool:
        """Record a connection; True when it is the member's first in the room."""
        present = self._rooms.setdefault(room, {}).setdefault(member.id, _Present(name=member.name))
        present.name = member.name
        first = not present.connections
        present.connections.add(connection)
        return first

    async def leave(self, *, room: str, member: Member, connection: str) -> bool:
        """Forget a connection; True when it was the member's last in the room."""
        people = self._rooms.get(room, {})
        present = people.get(member.id)
        if present is None or connection not in present.connections:
            return False
        present.connections.discard(connection)
        if present.connections:
            return False
        del people[member.id]
        return True

    async def members(self, *, room: str) -> list[Member]:
        """Everyone with at least one connection to the room, by name, with their latest name."""
        people = [Member(id=user_id, name=p.name) for user_id, p in self._rooms.get(room, {}).items()]
        return sorted(people, key=lambda m: (m.name.lower(), m.id))

    def counts(self, *, rooms: list[str]) -> dict[str, int]:
        """How many people are in each room."""
        return {room: len(self._rooms.get(room, {})) for room in rooms}


_presence: Presence | None = None


def get_presence() -> Presence:
    """The presence store this process uses: Redis when REDIS_URL is set."""
    global _presence
    if _presence is None:
        from django.conf import settings

        if settings.REDIS_URL:
            from rooms.presence_redis import RedisPresence

            _presence = RedisPresence()
        else:
            _presence = InMemoryPresence()
    return _presence
