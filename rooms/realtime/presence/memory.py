"""Presence for one process (the embedded default): all calls run on its event loop."""

from __future__ import annotations

from dataclasses import dataclass, field

from rooms.realtime.presence.base import Member, Roster, RosterEntries


@dataclass
class _Present:
    """One user in one room: their latest display name and their live connections."""

    name: str
    connections: set[str] = field(default_factory=set)


@dataclass
class _RoomPresence:
    """One room's people, keyed by user id (a name changed between two tabs is still one user)."""

    people: dict[int, _Present] = field(default_factory=dict)
    # The same people in roster order.
    entries: RosterEntries = field(default_factory=RosterEntries)
    # Never reset, even when the room empties: news still in flight keeps its meaning.
    version: int = 0
    roster: Roster | None = None

    def changed(self) -> int:
        self.version += 1
        self.roster = None
        return self.version


@dataclass
class InMemoryPresence:
    """Presence for a single process; all calls run on its event loop."""

    _rooms: dict[str, _RoomPresence] = field(default_factory=dict)

    async def join(self, *, room: str, member: Member, connection: str) -> int | None:
        """Record a connection; the room's new version if it is the member's first, else None."""
        state = self._rooms.setdefault(room, _RoomPresence())
        present = state.people.get(member.id)
        if present is None:
            state.people[member.id] = _Present(name=member.name, connections={connection})
            state.entries.put(member)
            return state.changed()
        present.connections.add(connection)
        if present.name != member.name:
            # A new name from a second tab takes a version too, announcing nobody.
            present.name = member.name
            state.entries.put(member)
            state.changed()
        return None

    async def leave(self, *, room: str, member: Member, connection: str) -> int | None:
        """Forget a connection; the room's new version if it was the member's last, else None."""
        state = self._rooms.get(room)
        if state is None:
            return None
        present = state.people.get(member.id)
        if present is None or connection not in present.connections:
            return None
        present.connections.discard(connection)
        if present.connections:
            return None
        del state.people[member.id]
        state.entries.drop(member.id)
        return state.changed()

    async def roster(self, *, room: str) -> Roster:
        """Everyone with at least one connection to the room, by name, with their latest name."""
        state = self._rooms.setdefault(room, _RoomPresence())
        if state.roster is None:
            state.roster = state.entries.roster(state.version)
        return state.roster

    def counts(self, *, rooms: list[str]) -> dict[str, int]:
        """How many people are in each room."""
        # One lookup per room: a view's or a dashboard's thread may ask while the loop changes them.
        found = {room: self._rooms.get(room) for room in rooms}
        return {room: len(state.people) if state is not None else 0 for room, state in found.items()}
