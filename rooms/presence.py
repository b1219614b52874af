"""Who is online in which room, counted per (room, user) over live connections.

`Presence` is the interface the consumer and views use; `InMemoryPresence`
serves one process (the embedded default). A shared store for many processes
implements the same four methods.
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

    async def counts(self, *, rooms: list[str]) -> dict[str, int]:
        """How many people are in each room."""


@dataclass
class InMemoryPresence:
    """Presence for a single process; all calls run on its event loop."""

    # room -> member -> that member's connection names
    _rooms: dict[str, dict[Member, set[str]]] = field(default_factory=dict)

    async def join(self, *, room: str, member: Member, connection: str) -> bool:
        """Record a connection; True when it is the member's first in the room."""
        connections = self._rooms.setdefault(room, {}).setdefault(member, set())
        first = not connections
        connections.add(connection)
        return first

    async def leave(self, *, room: str, member: Member, connection: str) -> bool:
        """Forget a connection; True when it was the member's last in the room."""
        members = self._rooms.get(room, {})
        connections = members.get(member)
        if connections is None or connection not in connections:
            return False
        connections.discard(connection)
        if connections:
            return False
        del members[member]
        return True

    async def members(self, *, room: str) -> list[Member]:
        """Everyone with at least one connection to the room, by name."""
        return sorted(self._rooms.get(room, {}), key=lambda m: (m.name.lower(), m.id))

    async def counts(self, *, rooms: list[str]) -> dict[str, int]:
        """How many people are in each room."""
        return {room: len(self._rooms.get(room, {})) for room in rooms}


_presence: Presence = InMemoryPresence()


def get_presence() -> Presence:
    """The presence store this process uses."""
    return _presence
