"""Losing access and ending a session reach sockets on every server (services pass only).

The change is made by a third process (manage.py shell, as the admin or a
sign-in on another server would): it reaches the sockets on servers A and B
only through Redis.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from tests.integration.cluster import Cluster, cluster_of_its_own
from tests.integration.room_client import RoomClient
from tests.servers import manage

pytestmark = [pytest.mark.services, pytest.mark.asyncio]

FINANCE = """
from accounts.models import User
from rooms.models import Room, RoomMember
room = Room.objects.create(slug="finance", name="Finance", kind="private")
for name in ("alice", "bob"):
    RoomMember.objects.create(room=room, user=User.objects.get(username=name))
"""

REMOVE_ALICE = """
from rooms.models import Room, RoomMember
from rooms.services import room_access_changed
room = Room.objects.get(slug="finance")
RoomMember.objects.filter(room=room, user__username="alice").delete()
room_access_changed(room=room)
"""


@pytest.fixture
def cluster(tmp_path) -> Iterator[Cluster]:
    """Servers A (uvicorn) and B (daphne) on a database and a Redis of this test's own."""
    with cluster_of_its_own(tmp_path, prefix="lets_talk_access") as started:
        yield started


async def closed_with(client: RoomClient, code: int) -> None:
    async with asyncio.timeout(10):
        assert await client.closed_by_server() == code


async def still_talking(client: RoomClient) -> None:
    """The client's socket is open: what it says comes back to it."""
    await client.say("still here")
    async with asyncio.timeout(10):
        assert (await client.next_frame("message"))["text"] == "still here"
    assert client.closes == []


async def test_a_member_removed_elsewhere_is_thrown_out_on_every_server(cluster, clients):
    """Alice in Finance on A and on B: both her sockets close with 4403; Bob's on B stays and hears on."""
    manage(cluster.env, "shell", "-v", "0", "-c", FINANCE)
    alice_a = await clients(cluster.client(cluster.a, "alice", room="finance"))
    alice_b = await clients(cluster.client(cluster.b, "alice", room="finance"))
    bob_b = await clients(cluster.client(cluster.b, "bob", room="finance"))

    await asyncio.to_thread(manage, cluster.env, "shell", "-v", "0", "-c", REMOVE_ALICE)

    await closed_with(alice_a, 4403)
    await closed_with(alice_b, 4403)
    await still_talking(bob_b)


SIGN_IN_ALICE = """
from django.contrib.auth import SESSION_KEY
from accounts.models import User
from accounts.sessions import SessionStore, socket_session
session = SessionStore()
session[SESSION_KEY] = str(User.objects.get(username="alice").pk)
sid = socket_session(session)
session.save()
print(session.session_key, sid)
"""


async def test_a_session_ended_elsewhere_closes_its_sockets_on_every_server(cluster, clients):
    """Alice's laptop session ends (as by an admin or a back-channel logout): its sockets on A and B close,
    4401; her phone's session and socket go on."""
    laptop_key, laptop = manage(cluster.env, "shell", "-v", "0", "-c", SIGN_IN_ALICE).split()
    _phone_key, phone = manage(cluster.env, "shell", "-v", "0", "-c", SIGN_IN_ALICE).split()
    on_a = await clients(cluster.client(cluster.a, "alice", session=laptop))
    on_b = await clients(cluster.client(cluster.b, "alice", session=laptop, room="sports"))
    phone_b = await clients(cluster.client(cluster.b, "alice", session=phone, room="music"))

    end = f"from accounts.sessions import SessionStore\nSessionStore({laptop_key!r}).delete()"
    await asyncio.to_thread(manage, cluster.env, "shell", "-v", "0", "-c", end)

    await closed_with(on_a, 4401)
    await closed_with(on_b, 4401)
    await still_talking(phone_b)
