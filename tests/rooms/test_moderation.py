"""Moderation: mutes, staff deleting from the room page, and the per-user socket cap."""

from __future__ import annotations

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.test import Client
from django.utils import timezone

from rooms.models import Message, Room, RoomMute
from rooms.services import user_mute, user_unmute
from tests.factories import user_create
from tests.rooms.sockets import TIMEOUT, join, message_count, send_text, ticket

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


async def general() -> Room:
    return await database_sync_to_async(Room.objects.get)(slug="general")


async def mute(user, minutes: float = 10, room: Room | None = None) -> None:
    moderator = await database_sync_to_async(user_create)(is_staff=True)
    until = timezone.now() + timedelta(minutes=minutes)
    await database_sync_to_async(user_mute)(
        room=room or await general(), user=user, until=until, moderator=moderator, reason="cool down"
    )


async def test_muted_user_gets_muted_error_and_nothing_is_stored(connect, alice, bob):
    """A mute reaches an open socket at once: messages get `muted`, nobody else hears them."""
    alice_socket, _ = await join(connect, alice)
    bob_socket, _ = await join(connect, bob)
    await alice_socket.receive_json_from(timeout=TIMEOUT)  # bob joined
    await mute(alice)
    # The mute travels to the socket through the channel layer, quietly.
    assert await alice_socket.receive_nothing(timeout=0.3)
    await send_text(alice_socket, "let me talk")
    error = await alice_socket.receive_json_from(timeout=TIMEOUT)
    assert error["type"] == "error"
    assert error["code"] == "muted"
    assert "UTC" in error["detail"]
    assert await bob_socket.receive_nothing(timeout=0.2)
    assert await message_count() == 0


async def test_mute_is_read_when_connecting(connect, alice):
    """A user muted before they connect is muted in the new socket too."""
    await mute(alice)
    socket, _ = await join(connect, alice)
    await send_text(socket, "hello?")
    assert (await socket.receive_json_from(timeout=TIMEOUT))["code"] == "muted"


async def test_mute_is_per_room(connect, alice):
    """Muted in General, a user still talks in Sports."""
    await mute(alice)
    sports, _ = await join(connect, alice, room="sports")
    await send_text(sports, "elsewhere")
    assert (await sports.receive_json_from(timeout=TIMEOUT))["text"] == "elsewhere"


async def test_expired_mute_no_longer_applies(connect, alice):
    """A mute whose time is over does not refuse anything."""
    await mute(alice, minutes=-1)
    socket, _ = await join(connect, alice)
    await send_text(socket, "free again")
    assert (await socket.receive_json_from(timeout=TIMEOUT))["type"] == "message"


async def test_unmute_lets_the_user_talk_at_once(connect, alice):
    """Lifting a mute reaches the open socket too."""
    socket, _ = await join(connect, alice)
    await mute(alice)
    room = await general()
    await database_sync_to_async(user_unmute)(room=room, user=alice, moderator=None)
    assert await socket.receive_nothing(timeout=0.3)
    await send_text(socket, "thanks")
    assert (await socket.receive_json_from(timeout=TIMEOUT))["type"] == "message"


async def test_muted_retries_do_not_get_the_socket_closed(connect, alice):
    """Muted refusals are not abuse: a dozen tries leave the socket open."""
    socket, _ = await join(connect, alice)
    await mute(alice)
    assert await socket.receive_nothing(timeout=0.3)
    for _ in range(12):
        await send_text(socket, "still muted?")
        assert (await socket.receive_json_from(timeout=TIMEOUT))["code"] == "muted"
    assert await socket.receive_nothing(timeout=0.2)


async def test_admin_mute_reaches_the_open_socket(connect, alice):
    """Creating a mute in the admin mutes the user's live socket."""
    socket, _ = await join(connect, alice)
    admin = await database_sync_to_async(user_create)(is_staff=True, is_superuser=True)
    client = Client()
    await database_sync_to_async(client.force_login)(admin)
    room = await general()
    until = timezone.now() + timedelta(hours=1)
    response = await database_sync_to_async(client.post)(
        "/admin/rooms/roommute/add/",
        {
            "room": room.pk,
            "user": alice.pk,
            "until_0": until.strftime("%Y-%m-%d"),
            "until_1": until.strftime("%H:%M:%S"),
            "reason": "spam",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert await database_sync_to_async(RoomMute.objects.filter(user=alice).exists)()
    assert await socket.receive_nothing(timeout=0.3)
    await send_text(socket, "spam spam")
    assert (await socket.receive_json_from(timeout=TIMEOUT))["code"] == "muted"


async def test_staff_delete_from_the_room_page_reaches_everyone(connect, alice, bob):
    """A moderator's delete (the room page's control) sends message_deleted to the room."""
    socket, _ = await join(connect, alice)
    await send_text(socket, "regrettable")
    sent = await socket.receive_json_from(timeout=TIMEOUT)
    staff = await database_sync_to_async(user_create)(is_staff=True)
    client = Client()
    await database_sync_to_async(client.force_login)(staff)
    response = await database_sync_to_async(client.post)(f"/rooms/general/messages/{sent['id']}/delete/")
    assert response.status_code == 200
    deleted = {"type": "message_deleted", "id": sent["id"], "seq": sent["seq"] + 1}
    assert await socket.receive_json_from(timeout=TIMEOUT) == deleted
    message = await database_sync_to_async(Message.objects.get)(pk=sent["id"])
    assert message.deleted_at is not None


async def test_socket_cap_refuses_one_more_socket_per_user(connect, alice, settings):
    """Past CHAT_MAX_SOCKETS_PER_USER sockets on this process, the next handshake is refused."""
    settings.CHAT_MAX_SOCKETS_PER_USER = 2
    first, _ = await join(connect, alice)
    await join(connect, alice, room="sports")
    _third, connected, _code = await connect(f"/ws/rooms/music/?token={ticket(alice, 'music')}")
    assert not connected
    await first.disconnect()
    _again, connected, _code = await connect(f"/ws/rooms/music/?token={ticket(alice, 'music')}")
    assert connected


async def test_socket_cap_is_per_user(connect, alice, bob, settings):
    """One user at the cap does not stop anyone else."""
    settings.CHAT_MAX_SOCKETS_PER_USER = 1
    await join(connect, alice)
    await join(connect, bob)
