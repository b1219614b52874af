"""Private rooms on sockets: refused at the handshake, and thrown out live (4403) when access goes."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from accounts.services import user_groups_sync
from rooms.direct import direct_room_open
from rooms.models import Room, RoomGroupGrant, RoomKind, RoomMember
from tests import factories
from tests.rooms.realtime.test_dashboard import by_slug, open_dashboard
from tests.rooms.sockets import TIMEOUT, assert_refused, join, send_text, ticket

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

ACCESS_LOST = {"type": "websocket.close", "code": 4403}


@database_sync_to_async
def private_room(*members, groups: tuple[str, ...] = ()) -> Room:
    room = factories.room_create(slug="finance", name="Finance", kind=RoomKind.PRIVATE)
    RoomMember.objects.bulk_create(RoomMember(room=room, user=member) for member in members)
    RoomGroupGrant.objects.bulk_create(RoomGroupGrant(room=room, group=group) for group in groups)
    return room


async def admin_saves(admin_client, room: Room, **changes) -> None:
    """Post the room's admin change form as a moderator would, with `changes`."""
    form = await database_sync_to_async(factories.room_change_form)(room, **changes)
    response = await database_sync_to_async(admin_client.post)(f"/admin/rooms/room/{room.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:2000]


def members_form(room: Room, keep: list[RoomMember], remove: list[RoomMember]) -> dict:
    """The members inline with `keep` unchanged and `remove` ticked for deletion."""
    rows = keep + remove
    form = {"members-TOTAL_FORMS": str(len(rows)), "members-INITIAL_FORMS": str(len(rows))}
    for n, member in enumerate(rows):
        form.update({f"members-{n}-id": str(member.pk), f"members-{n}-room": str(room.pk)})
        form[f"members-{n}-user"] = str(member.user_id)
        if member in remove:
            form[f"members-{n}-DELETE"] = "on"
    return form


async def test_an_outsiders_ticket_for_a_private_room_is_refused_and_broadcasts_nothing(connect, alice, bob):
    """Alice is not in Finance: her handshake fails as for an unknown room; Bob inside hears nothing."""
    await private_room(bob)
    bob_socket, _ = await join(connect, bob, room="finance")

    await assert_refused(connect, bob_socket, f"/ws/rooms/finance/?token={ticket(alice, 'finance')}")


async def test_a_member_removed_in_the_admin_is_thrown_out_and_the_others_stay(
    connect, alice, bob, admin_client
):
    """The admin removes Alice from Finance: her socket closes with 4403; Bob hears her leave and goes on."""
    room = await private_room(alice, bob)
    alice_socket, _ = await join(connect, alice, room="finance")
    bob_socket, _ = await join(connect, bob, room="finance")
    await alice_socket.receive_json_from(timeout=TIMEOUT)  # Bob joined
    members = await database_sync_to_async(lambda: {m.user_id: m for m in room.members.all()})()

    await admin_saves(
        admin_client, room, **members_form(room, keep=[members[bob.pk]], remove=[members[alice.pk]])
    )

    assert await alice_socket.receive_output(timeout=TIMEOUT) == ACCESS_LOST
    await alice_socket.disconnect()  # what the ASGI server does once the close frame is out
    assert (await bob_socket.receive_json_from(timeout=TIMEOUT))["type"] == "user_left"
    await send_text(bob_socket, "still here")
    assert (await bob_socket.receive_json_from(timeout=TIMEOUT))["text"] == "still here"
    _socket, connected, _code = await connect(f"/ws/rooms/finance/?token={ticket(alice, 'finance')}")
    assert not connected


async def test_making_a_public_room_private_throws_out_everyone_not_let_in(connect, alice, bob, admin_client):
    """Sports becomes private with Bob as its only member: Alice's socket there closes, Bob's stays open."""
    sports = await database_sync_to_async(Room.objects.get)(slug="sports")
    await database_sync_to_async(RoomMember.objects.create)(room=sports, user=bob)
    alice_socket, _ = await join(connect, alice, room="sports")
    bob_socket, _ = await join(connect, bob, room="sports")
    await alice_socket.receive_json_from(timeout=TIMEOUT)  # Bob joined

    await admin_saves(admin_client, sports, kind="private")

    assert await alice_socket.receive_output(timeout=TIMEOUT) == ACCESS_LOST
    await alice_socket.disconnect()
    assert (await bob_socket.receive_json_from(timeout=TIMEOUT))["type"] == "user_left"


async def test_leaving_the_granted_group_at_the_provider_throws_the_person_out(connect, alice):
    """Alice's next sign-in no longer lists "finance": her Finance socket closes with 4403, General stays."""
    await private_room(groups=("finance",))
    await database_sync_to_async(user_groups_sync)(user=alice, groups={"finance"})
    finance_socket, _ = await join(connect, alice, room="finance")
    general_socket, _ = await join(connect, alice)

    await database_sync_to_async(user_groups_sync)(user=alice, groups={"sales"})

    assert await finance_socket.receive_output(timeout=TIMEOUT) == ACCESS_LOST
    assert await general_socket.receive_nothing(timeout=0.3)


async def test_a_dashboard_relists_when_someone_is_let_into_a_room(connect, alice, admin_client):
    """The admin adds Alice to Finance: her open dashboard lists it at once."""
    room = await private_room()
    dashboard, welcome = await open_dashboard(connect, alice)
    assert "finance" not in by_slug(welcome)

    user_id = alice.pk
    form = {"members-TOTAL_FORMS": "1", "members-INITIAL_FORMS": "0", "members-0-user": str(user_id)}
    await admin_saves(admin_client, room, **form)

    frame = await dashboard.receive_json_from(timeout=TIMEOUT)
    assert frame["type"] == "relist"
    assert by_slug(frame)["finance"]["kind"] == "private"
    member = await database_sync_to_async(RoomMember.objects.select_related("added_by").get)(room=room)
    assert member.added_by is not None
    assert member.added_by.is_staff


async def test_a_direct_room_welcomes_each_of_the_two_under_the_others_name(connect, alice, bob):
    """Alice's welcome names the room Bob, Bob's names it Alice; a new conversation shows on the dashboard."""
    dashboard, _ = await open_dashboard(connect, bob)
    room = await database_sync_to_async(direct_room_open)(user=alice, other=bob)

    relisted = await dashboard.receive_json_from(timeout=TIMEOUT)
    assert relisted["type"] == "relist"
    assert by_slug(relisted)[room.slug]["name"] == "Alice"
    _alice_socket, alice_welcome = await join(connect, alice, room=room.slug)
    _bob_socket, bob_welcome = await join(connect, bob, room=room.slug)
    assert alice_welcome["room"] == {"slug": room.slug, "name": "Bob", "kind": "direct"}
    assert bob_welcome["room"]["name"] == "Alice"


async def test_taking_a_group_grant_away_in_the_admin_throws_its_people_out(connect, alice, admin_client):
    """Finance is granted to "finance" no more: Alice, in it only through that group, is closed with 4403."""
    room = await private_room(groups=("finance",))
    await database_sync_to_async(user_groups_sync)(user=alice, groups={"finance"})
    socket, _ = await join(connect, alice, room="finance")
    grant = await database_sync_to_async(RoomGroupGrant.objects.get)(room=room)
    form = {
        "group_grants-TOTAL_FORMS": "1",
        "group_grants-INITIAL_FORMS": "1",
        "group_grants-0-id": str(grant.pk),
        "group_grants-0-room": str(room.pk),
        "group_grants-0-group": "finance",
        "group_grants-0-DELETE": "on",
    }

    await admin_saves(admin_client, room, **form)

    assert await socket.receive_output(timeout=TIMEOUT) == ACCESS_LOST
