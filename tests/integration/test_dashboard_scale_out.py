"""A dashboard on one server hears of activity on another (services pass only).

The activity ticker of the process where a message is posted tells the
dashboard group over Redis; the dashboard on the other process reads its
counts from the shared database.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
import websockets

from rooms.realtime.handshake import tickets
from tests.integration.cluster import Cluster, cluster_of_its_own

pytestmark = [pytest.mark.services, pytest.mark.asyncio]


@pytest.fixture
def cluster(tmp_path) -> Iterator[Cluster]:
    """Servers A (uvicorn) and B (daphne) on a database and a Redis of this test's own."""
    with cluster_of_its_own(tmp_path, prefix="lets_talk_dashboard") as started:
        yield started


def read_up_to_now(cluster: Cluster, name: str, room: str = "general") -> None:
    """`name` has read `room` up to its latest seq (their RoomRead row)."""
    with psycopg.connect(cluster.database, autocommit=True) as connection:
        connection.execute(
            "INSERT INTO rooms_roomread (user_id, room_id, seq, updated_at) "
            "SELECT %s, id, seq, now() FROM rooms_room WHERE slug = %s",
            [cluster.users[name], room],
        )


async def next_general(socket) -> dict[str, Any]:
    """General as the next `rooms` frame naming it shows it."""
    while True:
        frame = json.loads(await socket.recv())
        assert frame["type"] == "rooms", frame
        rooms = {room["slug"]: room for room in frame["rooms"]}
        if "general" in rooms:
            return rooms["general"]


async def test_a_message_posted_on_a_updates_a_dashboard_on_b(cluster, clients):
    """Bob's dashboard on B shows Alice arriving on A and her "@bob" there: online 1, unread 1, mention 1."""
    read_up_to_now(cluster, "bob")
    server = cluster.b
    token = tickets.issue(user_id=cluster.users["bob"], name="Bob", room=tickets.DASHBOARD_ROOM)
    url = f"{server.url.replace('http://', 'ws://')}/ws/dashboard/?token={token}"
    async with websockets.connect(url, origin=server.url, open_timeout=5) as dashboard:
        welcome = json.loads(await asyncio.wait_for(dashboard.recv(), 5))
        general = {room["slug"]: room for room in welcome["rooms"]}["general"]
        assert (general["online"], general["unread"], general["mentions"]) == (0, 0, 0)

        alice = await clients(cluster.client(cluster.a, "alice"))
        async with asyncio.timeout(10):
            assert (await next_general(dashboard))["online"] == 1
        await alice.say("are you there, @bob?")
        async with asyncio.timeout(10):
            general = await next_general(dashboard)

    assert (general["unread"], general["mentions"], general["online"]) == (1, 1, 1)
    assert general["last_activity"] is not None
