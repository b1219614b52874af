"""Who is online in which room, counted per (room, user id) over live connections.

`Presence` is what the consumer and views use; `SharedPresence` adds what the
upkeep tick needs when processes share it. Backends: `memory.InMemoryPresence`
for one process (the embedded default), `redis.RedisPresence` for many
processes sharing Redis (REDIS_URL); `rooms.realtime.process` picks one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
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

    @classmethod
    def of(cls, *, version: int, entries: Iterable[RosterEntry]) -> Roster:
        """The roster of these members as rosters keep them (roster_entry), sorted and encoded."""
        ordered = sorted(entries)
        return cls(version=version, members=tuple(e[2] for e in ordered), encoded=encode_entries(ordered))


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
