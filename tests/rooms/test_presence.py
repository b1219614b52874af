"""rooms.presence: who is online, counted per user over their connections."""

from __future__ import annotations

import pytest

from rooms.presence import InMemoryPresence, Member
from rooms.presence_redis import RedisPresence
from tests.services import KINDS

pytestmark = pytest.mark.asyncio

ALICE = Member(id=1, name="Alice")
BOB = Member(id=2, name="Bob")


@pytest.fixture(params=KINDS)
def presence(request, shared_state):
    """An empty presence store of each kind: in-memory, and Redis when the suite runs on it."""
    return RedisPresence() if request.param == "redis" else InMemoryPresence()


async def test_first_connection_joins_and_last_one_leaves(presence):
    """join is True only for a user's first connection; leave only for their last."""
    assert await presence.join(room="general", member=ALICE, connection="tab-1") is True
    assert await presence.join(room="general", member=ALICE, connection="tab-2") is False

    assert await presence.leave(room="general", member=ALICE, connection="tab-1") is False
    assert await presence.members(room="general") == [ALICE]
    assert await presence.leave(room="general", member=ALICE, connection="tab-2") is True
    assert await presence.members(room="general") == []


async def test_two_tabs_count_once(presence):
    """Two connections of one user are one person online."""
    await presence.join(room="general", member=ALICE, connection="tab-1")
    await presence.join(room="general", member=ALICE, connection="tab-2")

    assert await presence.members(room="general") == [ALICE]
    assert presence.counts(rooms=["general"]) == {"general": 1}


async def test_name_change_between_tabs_counts_once_with_the_latest_name(presence):
    """Renamed before opening a second tab, a user is still one person, shown by the new name."""
    renamed = Member(id=ALICE.id, name="Alice Liddell")
    await presence.join(room="general", member=ALICE, connection="tab-1")

    assert await presence.join(room="general", member=renamed, connection="tab-2") is False
    assert await presence.members(room="general") == [renamed]
    assert presence.counts(rooms=["general"]) == {"general": 1}

    assert await presence.leave(room="general", member=renamed, connection="tab-2") is False
    assert await presence.leave(room="general", member=ALICE, connection="tab-1") is True
    assert presence.counts(rooms=["general"]) == {"general": 0}


async def test_leaving_an_unknown_connection_changes_nothing(presence):
    """A connection that never joined (or already left) is not a departure."""
    await presence.join(room="general", member=ALICE, connection="tab-1")

    assert await presence.leave(room="general", member=ALICE, connection="tab-9") is False
    assert await presence.leave(room="music", member=ALICE, connection="tab-1") is False
    assert await presence.leave(room="general", member=BOB, connection="tab-1") is False
    assert await presence.members(room="general") == [ALICE]


async def test_members_are_listed_by_name(presence):
    """Members come sorted by name, case-insensitively."""
    zed = Member(id=3, name="zed")
    for member in (zed, BOB, ALICE):
        await presence.join(room="general", member=member, connection=f"conn-{member.id}")

    assert await presence.members(room="general") == [ALICE, BOB, zed]


async def test_counts_cover_every_room_asked_for(presence):
    """Each room asked for gets a count, zero for empty or unknown rooms; rooms are separate."""
    await presence.join(room="general", member=ALICE, connection="a-general")
    await presence.join(room="general", member=BOB, connection="b-general")
    await presence.join(room="music", member=ALICE, connection="a-music")

    counts = presence.counts(rooms=["general", "music", "sports"])

    assert counts == {"general": 2, "music": 1, "sports": 0}
