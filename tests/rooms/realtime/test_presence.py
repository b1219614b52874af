"""rooms.realtime.presence: who is online, counted per user over their connections."""

from __future__ import annotations

import asyncio
import json

import pytest

from rooms.realtime.presence.base import Member
from rooms.realtime.presence.memory import InMemoryPresence
from rooms.realtime.presence.redis import RedisPresence
from rooms.realtime.redis import async_redis
from tests.services import KINDS

pytestmark = pytest.mark.asyncio

ALICE = Member(id=1, name="Alice")
BOB = Member(id=2, name="Bob")


@pytest.fixture(params=KINDS)
def presence(request, shared_state):
    """An empty presence store of each kind: in-memory, and Redis when the suite runs on it."""
    return RedisPresence() if request.param == "redis" else InMemoryPresence()


async def members(presence, room: str = "general") -> list[Member]:
    return list((await presence.roster(room=room)).members)


async def test_first_connection_joins_and_last_one_leaves(presence):
    """join gives a version only for a user's first connection; leave only for their last."""
    first = await presence.join(room="general", member=ALICE, connection="tab-1")
    assert first is not None
    assert await presence.join(room="general", member=ALICE, connection="tab-2") is None

    assert await presence.leave(room="general", member=ALICE, connection="tab-1") is None
    assert await members(presence, "general") == [ALICE]
    assert await presence.leave(room="general", member=ALICE, connection="tab-2") == first + 1
    assert await members(presence, "general") == []


async def test_two_tabs_count_once(presence):
    """Two connections of one user are one person online."""
    await presence.join(room="general", member=ALICE, connection="tab-1")
    await presence.join(room="general", member=ALICE, connection="tab-2")

    assert await members(presence, "general") == [ALICE]
    assert presence.counts(rooms=["general"]) == {"general": 1}


async def test_name_change_between_tabs_counts_once_with_the_latest_name(presence):
    """Renamed before opening a second tab, a user is still one person, shown by the new name."""
    renamed = Member(id=ALICE.id, name="Alice Liddell")
    await presence.join(room="general", member=ALICE, connection="tab-1")

    assert await presence.join(room="general", member=renamed, connection="tab-2") is None
    assert await members(presence, "general") == [renamed]
    assert presence.counts(rooms=["general"]) == {"general": 1}

    assert await presence.leave(room="general", member=renamed, connection="tab-2") is None
    assert await presence.leave(room="general", member=ALICE, connection="tab-1") is not None
    assert presence.counts(rooms=["general"]) == {"general": 0}


async def test_leaving_an_unknown_connection_changes_nothing(presence):
    """A connection that never joined (or already left) is not a departure."""
    await presence.join(room="general", member=ALICE, connection="tab-1")

    assert await presence.leave(room="general", member=ALICE, connection="tab-9") is None
    assert await presence.leave(room="music", member=ALICE, connection="tab-1") is None
    assert await presence.leave(room="general", member=BOB, connection="tab-1") is None
    assert await members(presence, "general") == [ALICE]


async def test_members_are_listed_by_name(presence):
    """Members come sorted by name, case-insensitively."""
    zed = Member(id=3, name="zed")
    for member in (zed, BOB, ALICE):
        await presence.join(room="general", member=member, connection=f"conn-{member.id}")

    assert await members(presence, "general") == [ALICE, BOB, zed]


async def test_counts_cover_every_room_asked_for(presence):
    """Each room asked for gets a count, zero for empty or unknown rooms; rooms are separate."""
    await presence.join(room="general", member=ALICE, connection="a-general")
    await presence.join(room="general", member=BOB, connection="b-general")
    await presence.join(room="music", member=ALICE, connection="a-music")

    counts = presence.counts(rooms=["general", "music", "sports"])

    assert counts == {"general": 2, "music": 1, "sports": 0}


async def test_each_change_of_who_is_here_takes_the_next_version(presence):
    """Versions count joins and leaves of people per room; a second tab changes nothing."""
    assert (await presence.roster(room="general")).version == 0
    first = await presence.join(room="general", member=ALICE, connection="a-1")
    assert first > 0
    assert await presence.join(room="general", member=ALICE, connection="a-2") is None
    assert await presence.join(room="general", member=BOB, connection="b-1") == first + 1
    assert await presence.join(room="music", member=BOB, connection="b-music") is not None
    assert await presence.leave(room="general", member=ALICE, connection="a-1") is None
    assert await presence.leave(room="general", member=ALICE, connection="a-2") == first + 2

    roster = await presence.roster(room="general")

    assert (roster.version, roster.members) == (first + 2, (BOB,))


async def test_a_room_that_empties_keeps_counting_versions(presence):
    """Versions never restart, so news still in flight keeps its place after a room empties."""
    first = await presence.join(room="general", member=ALICE, connection="a-1")
    await presence.leave(room="general", member=ALICE, connection="a-1")

    assert await presence.join(room="general", member=BOB, connection="b-1") == first + 2


async def test_the_roster_lists_members_as_the_welcome_frame_does(presence):
    """The roster's encoding is the welcome's user list, and follows every change."""
    await presence.join(room="general", member=BOB, connection="b-1")
    assert json.loads((await presence.roster(room="general")).encoded) == [{"id": 2, "name": "Bob"}]

    await presence.join(room="general", member=ALICE, connection="a-1")
    await presence.leave(room="general", member=BOB, connection="b-1")

    assert json.loads((await presence.roster(room="general")).encoded) == [{"id": 1, "name": "Alice"}]


@pytest.mark.services
async def test_versions_go_on_upward_after_redis_loses_everything():
    """After a Redis restart or flush, versions do not start again below those handed out before."""
    presence = RedisPresence()
    before = await presence.join(room="general", member=ALICE, connection="a-1")
    stale = await presence.roster(room="general")
    await async_redis().flushdb()

    after = await presence.join(room="general", member=BOB, connection="b-1")
    roster = await presence.roster(room="general")

    assert after > before
    assert roster.members == (BOB,)
    assert roster.version > stale.version


@pytest.mark.services
async def test_a_process_holding_a_roster_sees_every_change_another_process_made():
    """Joins, a rename, a leave and a reap by other processes: this process's next roster has them all."""
    here, elsewhere, carol = RedisPresence(), RedisPresence(), Member(id=3, name="Carol")
    await here.join(room="general", member=ALICE, connection="a-1")
    await here.roster(room="general")

    await elsewhere.join(room="general", member=BOB, connection="b-1")
    await elsewhere.join(room="general", member=carol, connection="c-1")
    await elsewhere.join(room="general", member=Member(id=ALICE.id, name="Alice Liddell"), connection="a-2")
    await elsewhere.leave(room="general", member=BOB, connection="b-1")
    await async_redis().zadd("lets-talk:presence:general:connections", {"3|c-1": 0})  # c-1's process died
    assert [member for _, member, _ in await elsewhere.reap()] == [carol]

    roster = await here.roster(room="general")
    assert roster.members == (Member(id=ALICE.id, name="Alice Liddell"),)
    assert roster == await RedisPresence().roster(room="general")  # as a process reading it all sees it
    assert json.loads(roster.encoded) == [{"id": ALICE.id, "name": "Alice Liddell"}]


@pytest.mark.services
async def test_a_change_made_without_its_log_entry_is_still_seen():
    """A version taken by a process running older code (no log entry): the next roster reads everyone."""
    here = RedisPresence()
    await here.join(room="general", member=ALICE, connection="a-1")
    await here.roster(room="general")
    await async_redis().hset("lets-talk:presence:general:names", str(BOB.id), BOB.name)
    await async_redis().incr("lets-talk:presence:general:version")

    assert (await here.roster(room="general")).members == (ALICE, BOB)


@pytest.mark.services
async def test_a_redis_restored_from_an_older_save_gives_the_rosters_of_what_it_holds():
    """Redis back from a save from before Bob joined, then Carol and Dave join: no Bob, Carol there."""
    here, elsewhere = RedisPresence(), RedisPresence()
    carol, dave = Member(id=3, name="Carol"), Member(id=4, name="Dave")
    await elsewhere.join(room="general", member=ALICE, connection="a-1")
    keys = await async_redis().keys("lets-talk:presence:*")
    saved = {key: await async_redis().dump(key) for key in keys}
    await elsewhere.join(room="general", member=BOB, connection="b-1")
    assert (await here.roster(room="general")).members == (ALICE, BOB)

    await async_redis().delete(*await async_redis().keys("lets-talk:presence:*"))
    for key, value in saved.items():
        await async_redis().restore(key, 0, value)
    await elsewhere.join(room="general", member=carol, connection="c-1")  # takes Bob's version again
    await elsewhere.join(room="general", member=dave, connection="d-1")

    assert (await here.roster(room="general")).members == (ALICE, carol, dave)


async def test_names_with_the_separator_in_them_are_kept_whole(presence):
    """A display name with '|' in it is listed as written, after other changes are read too."""
    odd = Member(id=5, name="A | B|C")
    await presence.join(room="general", member=ALICE, connection="a-1")
    await presence.roster(room="general")
    await presence.join(room="general", member=odd, connection="o-1")

    assert (await presence.roster(room="general")).members == (odd, ALICE)


async def test_everyone_joining_at_once_gets_a_roster_holding_everyone_before_them(presence):
    """A storm of joins: each joiner's roster has them and all who joined first, at a version past theirs."""
    people = [Member(id=n, name=f"Person {n:02}") for n in range(1, 41)]
    joined: list[Member] = []

    async def enter(member: Member) -> None:
        version = await presence.join(room="general", member=member, connection=f"tab-{member.id}")
        before = list(joined)
        joined.append(member)
        roster = await presence.roster(room="general")
        assert roster.version >= version
        assert set(before) | {member} <= set(roster.members)
        assert json.loads(roster.encoded) == [{"id": m.id, "name": m.name} for m in roster.members]

    await asyncio.gather(*(enter(member) for member in people))

    assert await members(presence) == people


async def test_a_joiner_who_gives_up_does_not_take_the_roster_from_the_others(presence):
    """Two read the roster at once and one is cancelled (its socket closed): the other still gets it."""
    await presence.join(room="general", member=ALICE, connection="tab-1")
    gone = asyncio.ensure_future(presence.roster(room="general"))
    staying = asyncio.ensure_future(presence.roster(room="general"))
    await asyncio.sleep(0)
    gone.cancel()

    assert (await staying).members == (ALICE,)
