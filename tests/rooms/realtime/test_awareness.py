"""Typing and read frames over the real ASGI stack: who hears them, what is stored, how often."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from rooms import services
from rooms.models import Room, RoomRead
from rooms.services import user_mute
from tests.factories import user_create
from tests.rooms.sockets import TIMEOUT, join, message_count, messages_in_general, send_text

# serialized_rollback: keep the seeded rooms that a transactional flush would wipe.
pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

# Long enough that nothing passes twice within one test.
FOREVER = 60.0


@pytest.fixture
def writes(monkeypatch):
    """The seqs the sockets' ReadMarkers write (through the real room_read_mark), in order."""
    seqs: list[int] = []

    def spy(*, user, room, seq):
        seqs.append(seq)
        return services.room_read_mark(user=user, room=room, seq=seq)

    monkeypatch.setattr("rooms.realtime.awareness.room_read_mark", spy)
    return seqs


async def typing(socket) -> None:
    await socket.send_json_to({"type": "typing"})


async def read(socket, seq) -> None:
    await socket.send_json_to({"type": "read", "seq": seq})


async def read_seq(user, room: str = "general") -> int | None:
    """The stored read seq of `user` in `room` (None: no row)."""
    found = RoomRead.objects.filter(user=user, room__slug=room).values_list("seq", flat=True).first
    return await database_sync_to_async(found)()


async def room_seq(room: str = "general") -> int:
    return (await database_sync_to_async(Room.objects.get)(slug=room)).seq


async def mute(user) -> None:
    """A moderator mutes `user` in General for ten minutes."""
    room = await database_sync_to_async(Room.objects.get)(slug="general")
    moderator = await database_sync_to_async(user_create)(is_staff=True)
    until = timezone.now() + timedelta(minutes=10)
    await database_sync_to_async(user_mute)(room=room, user=user, until=until, moderator=moderator)


# Typing ------------------------------------------------------------------------------


async def test_typing_reaches_the_others_without_a_seq_but_none_of_the_typists_sockets(
    connect, alice_and_bob, alice, monkeypatch
):
    """Bob gets {"type": "typing", "user"} with no seq; Alice's socket and her second tab get nothing."""
    monkeypatch.setattr("rooms.realtime.awareness.TYPING_INTERVAL", FOREVER)
    alice_socket, bob_socket = alice_and_bob
    second_tab, _ = await join(connect, alice)

    await typing(alice_socket)

    frame = await bob_socket.receive_json_from(timeout=TIMEOUT)
    assert frame == {"type": "typing", "user": {"id": alice.pk, "name": "Alice"}}
    assert await alice_socket.receive_nothing(timeout=0.2)
    assert await second_tab.receive_nothing(timeout=0.2)


async def test_typing_stays_in_its_room(connect, alice_and_bob, alice, bob, monkeypatch):
    """Bob's socket in Music hears nothing of Alice typing in General."""
    monkeypatch.setattr("rooms.realtime.awareness.TYPING_INTERVAL", FOREVER)
    alice_socket, bob_socket = alice_and_bob
    bob_in_music, _ = await join(connect, bob, room="music")

    await typing(alice_socket)

    assert (await bob_socket.receive_json_from(timeout=TIMEOUT))["type"] == "typing"
    assert await bob_in_music.receive_nothing(timeout=0.2)


async def test_a_second_typing_within_the_interval_is_dropped(alice_and_bob, monkeypatch):
    """Two typing frames in a row: Bob hears the first only."""
    monkeypatch.setattr("rooms.realtime.awareness.TYPING_INTERVAL", FOREVER)
    alice_socket, bob_socket = alice_and_bob

    await typing(alice_socket)
    assert (await bob_socket.receive_json_from(timeout=TIMEOUT))["type"] == "typing"
    await typing(alice_socket)

    assert await bob_socket.receive_nothing(timeout=0.3)
    assert await alice_socket.receive_nothing(timeout=0.1)  # dropped quietly, no error


async def test_typing_passes_again_once_the_interval_is_over(alice_and_bob, monkeypatch):
    """With a 0.2 s interval, a typing frame 0.3 s after the first reaches Bob too."""
    monkeypatch.setattr("rooms.realtime.awareness.TYPING_INTERVAL", 0.2)
    alice_socket, bob_socket = alice_and_bob

    await typing(alice_socket)
    assert (await bob_socket.receive_json_from(timeout=TIMEOUT))["type"] == "typing"
    await asyncio.sleep(0.3)
    await typing(alice_socket)

    assert (await bob_socket.receive_json_from(timeout=TIMEOUT))["type"] == "typing"


async def test_a_muted_users_typing_is_not_passed_on_and_not_refused(alice_and_bob, alice, monkeypatch):
    """Once Alice's socket knows she is muted, her typing reaches nobody and she gets no error."""
    monkeypatch.setattr("rooms.realtime.awareness.TYPING_INTERVAL", 0.0)
    alice_socket, bob_socket = alice_and_bob
    await mute(alice)
    # The mute reaches her socket through her user group: over Redis, maybe after a message of hers.
    for _ in range(20):
        await send_text(alice_socket, "still here?")
        answer = await alice_socket.receive_json_from(timeout=TIMEOUT)
        if answer.get("code") == "muted":
            break
        if answer["type"] == "message":
            await bob_socket.receive_json_from(timeout=TIMEOUT)  # sent before the mute landed
        await asyncio.sleep(0.05)
    else:
        pytest.fail("the mute never reached Alice's socket")

    await typing(alice_socket)

    assert await bob_socket.receive_nothing(timeout=0.3)
    assert await alice_socket.receive_nothing(timeout=0.1)


async def test_typing_is_never_stored_and_takes_no_seq(alice_and_bob, monkeypatch):
    """After typing frames the room has no message and its seq has not moved."""
    monkeypatch.setattr("rooms.realtime.awareness.TYPING_INTERVAL", 0.0)
    alice_socket, bob_socket = alice_and_bob
    before = await room_seq()

    for _ in range(3):
        await typing(alice_socket)
        assert (await bob_socket.receive_json_from(timeout=TIMEOUT))["type"] == "typing"

    assert await message_count() == 0
    assert await room_seq() == before


# Read --------------------------------------------------------------------------------


async def test_reads_within_the_interval_are_written_once_with_the_highest_seq(
    alice_and_bob, alice, bob, writes, monkeypatch
):
    """The first read is written at once; 2, 4, 3 after it wait, and the close writes 4 alone."""
    monkeypatch.setattr("rooms.realtime.awareness.READ_WRITE_INTERVAL", FOREVER)
    await messages_in_general(bob, 5)
    alice_socket, _bob_socket = alice_and_bob

    await read(alice_socket, 1)
    assert await alice_socket.receive_json_from(timeout=TIMEOUT) == {"type": "read", "seq": 1}
    for seq in (2, 4, 3):
        await read(alice_socket, seq)
    assert await alice_socket.receive_nothing(timeout=0.3)
    assert await read_seq(alice) == 1

    await alice_socket.disconnect()

    assert await read_seq(alice) == 4
    assert writes == [1, 4]


async def test_a_pending_read_is_written_when_the_interval_ends(
    alice_and_bob, alice, bob, writes, monkeypatch
):
    """With a 0.3 s interval, reads sent after the first are written, once, without waiting for the close."""
    monkeypatch.setattr("rooms.realtime.awareness.READ_WRITE_INTERVAL", 0.3)
    await messages_in_general(bob, 5)
    alice_socket, _bob_socket = alice_and_bob

    await read(alice_socket, 1)
    assert await alice_socket.receive_json_from(timeout=TIMEOUT) == {"type": "read", "seq": 1}
    await read(alice_socket, 2)
    await read(alice_socket, 5)

    assert await alice_socket.receive_json_from(timeout=TIMEOUT) == {"type": "read", "seq": 5}
    assert await read_seq(alice) == 5
    assert writes == [1, 5]


async def test_the_read_state_never_goes_back_when_a_lower_seq_comes_later(
    connect, alice_and_bob, alice, bob, monkeypatch
):
    """Read to 4 in one tab, then to 2 in another: the row stays at 4 and nobody is told of 2."""
    monkeypatch.setattr("rooms.realtime.awareness.READ_WRITE_INTERVAL", 0.0)
    await messages_in_general(bob, 5)
    alice_socket, _bob_socket = alice_and_bob
    second_tab, _ = await join(connect, alice)

    await read(alice_socket, 4)
    assert await alice_socket.receive_json_from(timeout=TIMEOUT) == {"type": "read", "seq": 4}
    assert await second_tab.receive_json_from(timeout=TIMEOUT) == {"type": "read", "seq": 4}
    await read(second_tab, 2)
    await second_tab.disconnect()  # whatever it had pending is written by now

    assert await read_seq(alice) == 4
    assert await alice_socket.receive_nothing(timeout=0.2)


async def test_a_read_reaches_the_readers_other_tab_in_the_room_but_not_others(
    connect, alice_and_bob, alice, bob, monkeypatch
):
    """Alice's second tab in General gets {"type": "read", "seq"}; Bob and her tab in Music do not."""
    monkeypatch.setattr("rooms.realtime.awareness.READ_WRITE_INTERVAL", 0.0)
    await messages_in_general(bob, 3)
    alice_socket, bob_socket = alice_and_bob
    second_tab, _ = await join(connect, alice)
    alice_in_music, _ = await join(connect, alice, room="music")

    await read(alice_socket, 3)

    assert await second_tab.receive_json_from(timeout=TIMEOUT) == {"type": "read", "seq": 3}
    assert await alice_socket.receive_json_from(timeout=TIMEOUT) == {"type": "read", "seq": 3}
    assert await bob_socket.receive_nothing(timeout=0.2)
    assert await alice_in_music.receive_nothing(timeout=0.1)
    assert await read_seq(alice) == 3
    assert await read_seq(bob) is None


@pytest.mark.parametrize(
    "seq", [-1, "3", True, None, 1.5], ids=["negative", "string", "bool", "null", "float"]
)
async def test_a_read_without_a_whole_non_negative_seq_is_refused(alice_and_bob, alice, bob, seq, writes):
    """Each gets error invalid_frame, and nothing is written."""
    await messages_in_general(bob, 3)
    alice_socket, _bob_socket = alice_and_bob

    await read(alice_socket, seq)

    error = await alice_socket.receive_json_from(timeout=TIMEOUT)
    assert (error["type"], error["code"]) == ("error", "invalid_frame")
    await alice_socket.disconnect()
    assert writes == []
    assert await read_seq(alice) is None


async def test_a_read_without_a_seq_is_refused(alice_and_bob):
    """{"type": "read"} alone gets invalid_frame."""
    alice_socket, _bob_socket = alice_and_bob

    await alice_socket.send_json_to({"type": "read"})

    error = await alice_socket.receive_json_from(timeout=TIMEOUT)
    assert (error["type"], error["code"]) == ("error", "invalid_frame")


async def test_a_read_past_the_rooms_seq_is_stored_clamped(alice_and_bob, alice, bob, monkeypatch):
    """Seq 99 in a room at seq 3 is stored, and echoed, as 3."""
    monkeypatch.setattr("rooms.realtime.awareness.READ_WRITE_INTERVAL", 0.0)
    await messages_in_general(bob, 3)
    alice_socket, _bob_socket = alice_and_bob

    await read(alice_socket, 99)

    assert await alice_socket.receive_json_from(timeout=TIMEOUT) == {"type": "read", "seq": 3}
    assert await read_seq(alice) == 3
