"""Who is online in which room, counted per (room, user id) over live connections.

`Presence` is what the consumer and views use; `SharedPresence` adds what the
upkeep tick needs when processes share it. Backends: `memory.InMemoryPresence`
for one process (the embedded default), `redis.RedisPresence` for many
processes sharing Redis (REDIS_URL); `rooms.realtime.process` picks one.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from dataclasses import dataclass, field
from typing import Protocol

from rooms.realtime.protocol import outbound


@dataclass(frozen=True)
class Member:
    """A user present in a room."""

    id: int
    name: str


@dataclass(frozen=True)
class Roster:
    """Who is in a room, by name, as of one presence version, and that list encoded.

    Every join or leave that changes who is there (and every new name) takes
    the next version of its room: a socket drops presence news whose version
    its roster already covers, so it hears of each change once, with one
    number to remember.
    """

    version: int
    members: tuple[Member, ...]
    # The members as the welcome frame lists them: encoded once per roster.
    encoded: str


# A member as rosters keep them: (sort key, encoded member, member); sort
# keys are unique, so entries compare by their key alone.
RosterEntry = tuple[tuple[str, int], str, Member]


def roster_entry(member: Member) -> RosterEntry:
    """A member as rosters keep them: by name, case-insensitively, then by id for equal names."""
    key = (member.name.lower(), member.id)
    return key, outbound.encode(outbound.member(user_id=member.id, name=member.name)), member


def encode_entries(entries: list[RosterEntry]) -> str:
    """The roster's members as the welcome frame lists them."""
    return "[" + ",".join(e[1] for e in entries) + "]"


@dataclass
class RosterEntries:
    """A room's members in roster order, kept sorted as they come, go and rename.

    So a roster costs a join of strings already encoded, not a sort and an
    encoding of everyone: in a connect storm that is N rosters of up to N members.
    """

    names: dict[int, str] = field(default_factory=dict)
    entries: list[RosterEntry] = field(default_factory=list)

    def put(self, member: Member) -> None:
        """Add the member, or give them their new name; nothing if they are there by that name."""
        name = self.names.get(member.id)
        if name == member.name:
            return
        if name is not None:
            self._remove(member.id, name)
        self.names[member.id] = member.name
        insort(self.entries, roster_entry(member))

    def drop(self, member_id: int) -> None:
        """Remove the member, if there."""
        name = self.names.pop(member_id, None)
        if name is not None:
            self._remove(member_id, name)

    def roster(self, version: int) -> Roster:
        """These members as the roster of `version`."""
        members = tuple(e[2] for e in self.entries)
        return Roster(version=version, members=members, encoded=encode_entries(self.entries))

    def _remove(self, member_id: int, name: str) -> None:
        del self.entries[bisect_left(self.entries, ((name.lower(), member_id),))]


class Presence(Protocol):
    """Who is online where, as the consumer and the dashboard ask it."""

    async def join(self, *, room: str, member: Member, connection: str) -> int | None:
        """Record a connection; the room's new version if it is the member's first, else None."""

    async def leave(self, *, room: str, member: Member, connection: str) -> int | None:
        """Forget a connection; the room's new version if it was the member's last, else None."""

    async def roster(self, *, room: str) -> Roster:
        """Everyone with at least one connection to the room, and the version that says so."""

    def counts(self, *, rooms: list[str]) -> dict[str, int]:
        """How many people are in each room (sync: the dashboard's views call it)."""


class SharedPresence(Presence, Protocol):
    """Presence that several processes share: each renews its own, any reaps the dead."""

    async def renew(
        self, *, connections: list[tuple[str, Member, str]]
    ) -> list[tuple[str, Member, int | None]]:
        """Extend this process's (room, member, connection)s; re-join those the store lost.

        Returns the re-joined ones as (room, member, what join() returned for them).
        """

    async def reap(self) -> list[tuple[str, Member, int]]:
        """Drop connections nobody renewed (dead processes); who left which room, at which version."""
