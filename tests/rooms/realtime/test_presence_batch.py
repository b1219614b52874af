"""Presence news coalesced: changes close together reach each socket as one frame, each told once.

PresenceBatch on its own first, then through the real ASGI stack with the
interval made long enough that the joins of a test surely meet in it.
"""

from __future__ import annotations

import json

import pytest
from channels.db import database_sync_to_async

from rooms.realtime.presence_batch import PresenceBatch
from rooms.realtime.protocol import outbound
from rooms.realtime.protocol.layer import room_event
from tests import factories
from tests.rooms.sockets import TIMEOUT, join, online_ids, send_text

ANN, BEN, CAT = ({"id": n, "name": name} for n, name in ((1, "Ann"), (2, "Ben"), (3, "Cat")))


def joined(user: dict, version: int) -> dict:
    return room_event(outbound.user_joined(user), version=version)


def left(user: dict, version: int) -> dict:
    return room_event(outbound.user_left(user), version=version)


def told(message: dict | None) -> dict | None:
    return None if message is None else json.loads(message["text"])


def test_a_roster_older_than_the_batch_hears_every_change_in_one_frame_encoded_once():
    batch = PresenceBatch([joined(ANN, 11), left(BEN, 12), joined(CAT, 13)])
    assert told(batch.since(10)) == {"type": "presence_diff", "joins": [ANN, CAT], "leaves": [BEN]}
    assert batch.since(3) is batch.since(10)  # one encoding for everyone before the batch
    assert batch.event()["version"] == 13


def test_a_newcomer_hears_only_what_its_roster_did_not_show():
    """Its own join (in its roster) is never told; one change left is that change's own frame."""
    batch = PresenceBatch([joined(ANN, 11), joined(BEN, 12), joined(CAT, 13)])
    assert told(batch.since(11)) == {"type": "presence_diff", "joins": [BEN, CAT], "leaves": []}
    assert told(batch.since(12)) == {"type": "user_joined", "user": CAT}
    assert batch.since(13) is None


def test_someone_who_came_and_went_within_the_batch_is_not_mentioned():
    batch = PresenceBatch([joined(ANN, 11), joined(BEN, 12), left(ANN, 13)])
    assert told(batch.since(10)) == {"type": "user_joined", "user": BEN}
    # A roster that showed Ann (after her join) must hear that she left.
    assert told(batch.since(11)) == {"type": "presence_diff", "joins": [BEN], "leaves": [ANN]}


def test_went_and_came_back_is_no_news_to_older_rosters_yet_a_roster_between_hears_the_return():
    """A reload: Ann left and came back. A roster from before knows her; one from between does not."""
    batch = PresenceBatch([left(ANN, 11), joined(ANN, 12)])
    assert batch.since(10) is None
    assert told(batch.since(11)) == {"type": "user_joined", "user": ANN}
    assert batch.event()["batch"] is batch  # still fanned out: the roster between needs its part


def test_events_out_of_version_order_are_told_in_version_order():
    batch = PresenceBatch([joined(CAT, 13), joined(ANN, 11), left(ANN, 12)])
    assert told(batch.since(10)) == {"type": "user_joined", "user": CAT}
    assert told(batch.since(11)) == {"type": "presence_diff", "joins": [CAT], "leaves": [ANN]}


async def frames_until_message(socket) -> list[dict]:
    """The frames a socket is sent before the next message (which is not among them)."""
    frames = []
    while (frame := await socket.receive_json_from(timeout=TIMEOUT))["type"] != "message":
        frames.append(frame)
    return frames


async def frames_until_quiet(socket, quiet: float = 0.6) -> list[dict]:
    """Everything the socket is sent until nothing more comes for `quiet` seconds."""
    frames = []
    while not await socket.receive_nothing(timeout=quiet):
        frames.append(await socket.receive_json_from(timeout=TIMEOUT))
    return frames


def people_told(frames: list[dict]) -> list[tuple[str, int]]:
    """(change, user id) for every change the frames tell, in order."""
    changes = []
    for frame in frames:
        if frame["type"] == "user_joined":
            changes.append(("join", frame["user"]["id"]))
        elif frame["type"] == "user_left":
            changes.append(("leave", frame["user"]["id"]))
        elif frame["type"] == "presence_diff":
            changes += [("leave", user["id"]) for user in frame["leaves"]]
            changes += [("join", user["id"]) for user in frame["joins"]]
    return changes


async def people(count: int) -> list:
    create = database_sync_to_async(factories.user_create)
    return [await create(username=f"p{n}", display_name=f"Person {n:02d}") for n in range(count)]


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
async def test_a_storm_of_joins_is_a_few_frames_and_everyone_is_told_of_everyone_once(connect, settings):
    """Twelve join within one interval: the first hears of the eleven others in one frame, each once;
    each later one hears of exactly those after it; the last hears nothing (its roster has them all)."""
    settings.CHAT_PRESENCE_COALESCE = 30  # sent when the room's next frame goes out
    crowd = await people(12)
    sockets = [await join(connect, person) for person in crowd]
    await send_text(sockets[-1][0], "everyone here?", "c-1")
    for index, (socket, welcome) in enumerate(sockets):
        frames = await frames_until_message(socket)
        roster = {user["id"] for user in welcome["users"]}
        later = [("join", person.pk) for person in crowd if person.pk not in roster]
        assert people_told(frames) == later, index
        assert len(frames) == (1 if later else 0), frames
    assert sorted(await online_ids()) == sorted(person.pk for person in crowd)


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
async def test_a_newcomer_s_join_is_never_overtaken_by_what_they_say(connect, alice, bob, settings):
    """The interval is long, but Bob's first message sends the waiting news first: Alice hears he came."""
    settings.CHAT_PRESENCE_COALESCE = 30
    alice_socket, _ = await join(connect, alice)
    bob_socket, _ = await join(connect, bob)
    await send_text(bob_socket, "hello, I just came in", "c-1")
    first = await alice_socket.receive_json_from(timeout=TIMEOUT)
    second = await alice_socket.receive_json_from(timeout=TIMEOUT)
    assert first == {"type": "user_joined", "user": {"id": bob.pk, "name": "Bob"}}
    assert (second["type"], second["text"]) == ("message", "hello, I just came in")


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
async def test_someone_who_comes_and_goes_within_the_interval_is_no_news(connect, alice, bob, settings):
    settings.CHAT_PRESENCE_COALESCE = 1.0
    alice_socket, _ = await join(connect, alice)
    bob_socket, _ = await join(connect, bob)
    await bob_socket.disconnect()
    assert await frames_until_quiet(alice_socket, quiet=1.5) == []
    assert await online_ids() == [alice.pk]
