"""The per-room event log across two uvicorn processes sharing PostgreSQL and Redis (services pass only).

Readers resume by seq and epoch (README "Delivery") while others talk through
both processes, and must end holding exactly what PostgreSQL holds.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.cluster import Cluster, postgres_database, start_cluster
from tests.integration.room_client import RoomClient, RoomReader
from tests.servers import RedisServer, manage

pytestmark = [pytest.mark.services, pytest.mark.asyncio]

SENDERS = ("alice", "bob", "carol", "dave")
MESSAGES_EACH = 1250  # 5,000 together
# Unacknowledged messages a sender keeps in flight: enough to keep its socket busy.
WINDOW = 20
READER_LIFETIME_S = (0.2, 0.5)
DELETE_AS_MODERATOR = (
    "from accounts.models import User\n"
    "from rooms.models import Message\n"
    "from rooms.services import message_delete\n"
    "moderator, _ = User.objects.get_or_create(username='moderator', defaults={{'is_staff': True}})\n"
    "message_delete(message=Message.objects.select_related('room').get(pk={pk}), by=moderator)\n"
)


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    """A PostgreSQL database of this module's own, migrated."""
    with postgres_database("lets_talk_delivery") as url:
        yield url


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("delivery")


@pytest.fixture(scope="module")
def redis_server(workdir) -> Iterator[RedisServer]:
    """A Redis of this module's own."""
    server = RedisServer(workdir).start()
    try:
        yield server
    finally:
        server.kill()


# Shared by the module's tests (each in a room of its own): starting two servers costs seconds.
@pytest.fixture(scope="module")
def cluster(workdir, database, redis_server) -> Iterator[Cluster]:
    """Two uvicorn processes (A and B) on one database and one Redis, and the users' ids."""
    started = start_cluster(
        workdir,
        database=database,
        redis_url=redis_server.url,
        users=(*SENDERS, "erin"),
        servers=("uvicorn", "uvicorn"),
        # Senders go as fast as the server lets them: no rate limit in the way.
        CHAT_RATE_LIMIT="1000000",
        # A lost last event is noticed within a second, not the default 30.
        CHAT_POSITION_INTERVAL="1",
        # Resumes must replay, never start over: starting over is another test's subject.
        CHAT_RECOVERY_LIMIT="1000000",
    )
    try:
        yield started
    finally:
        started.stop()


async def send_all(client: RoomClient, count: int) -> None:
    """Send `count` messages, WINDOW unacknowledged at a time, until the server echoed each one."""
    sent = 0
    while sent < count or client.pending:
        while sent < count and len(client.pending) < WINDOW:
            await client.say(f"{client.name} {sent}")
            sent += 1
        # Any frame may be an echo (RoomClient clears `pending` before queueing it).
        await client.frames.get()


async def say_and_wait(client: RoomClient, text: str) -> dict:
    """Send one message and return the stored message the server echoes."""
    client_id = await client.say(text)
    async with asyncio.timeout(5):
        while True:
            frame = await client.next_frame("message")
            if frame["client_id"] == client_id:
                return frame


async def delete_as_moderator(cluster: Cluster, message_id: int) -> None:
    """Delete a message through rooms.services in a process of its own, as the admin would."""
    await asyncio.to_thread(
        manage, cluster.env, "shell", "-v", "0", "-c", DELETE_AS_MODERATOR.format(pk=message_id)
    )


async def test_a_reader_that_keeps_reconnecting_ends_with_every_stored_message(cluster, clients):
    """Four senders on two servers, a reader dropping its socket every few tenths of a second: none lost."""
    reader = RoomReader(user_id=cluster.users["erin"], name="Erin")
    reading = asyncio.create_task(reader.keep_reconnecting([cluster.a.url, cluster.b.url], READER_LIFETIME_S))
    # Its first connect, into an empty room, is the only one without `since`.
    async with asyncio.timeout(10):
        await reader.welcomed.wait()
    senders = [
        await clients(cluster.client(server, name))
        for server, name in zip((cluster.a, cluster.b) * 2, SENDERS, strict=True)
    ]

    started = time.monotonic()
    try:
        async with asyncio.timeout(90):
            await asyncio.gather(*(send_all(sender, MESSAGES_EACH) for sender in senders))
        sending_s = time.monotonic() - started
        room_seq = cluster.room_seq("general")
        reader.target = room_seq
        async with asyncio.timeout(30):
            await reading
    finally:
        reading.cancel()  # a no-op once it is done; otherwise a failing test leaves no task behind

    stored = cluster.stored_seqs("general")
    shown = {message_id: message["seq"] for message_id, message in reader.view.messages.items()}
    view = reader.view
    print(
        f"\ndelivery: {len(shown)} messages shown of {len(stored)} stored in {sending_s:.1f}s, "
        f"{reader.connects - 1} reconnects, {view.out_of_order} out-of-order frames, "
        f"{reader.gap_resumes} resumes after a gap, {view.duplicates} duplicates dropped"
    )
    assert len(stored) == len(SENDERS) * MESSAGES_EACH == room_seq
    missing, extra = stored.keys() - shown.keys(), shown.keys() - stored.keys()
    assert (len(missing), len(extra)) == (0, 0), f"missing {sorted(missing)[:20]}, extra {sorted(extra)[:20]}"
    assert shown == stored
    # Each seq once, in seq order, and none skipped: nothing was deleted here.
    assert view.applied == list(range(1, room_seq + 1))
    assert reader.closes == []


async def test_a_deletion_made_while_a_client_was_offline_is_gone_after_it_resumes(cluster, clients):
    """Back on the other server, a reader drops what a moderator deleted meanwhile, gets what came after."""
    room = "sports"
    alice = await clients(cluster.client(cluster.a, "alice", room=room))
    bob = await clients(cluster.client(cluster.b, "bob", room=room))
    reader = RoomReader(user_id=cluster.users["erin"], name="Erin", room=room)

    # Erin reads Alice's first messages live on A, then goes offline.
    reading = asyncio.create_task(reader.read_until(cluster.a.url, seq=3))
    async with asyncio.timeout(10):
        await reader.welcomed.wait()
    read = [await say_and_wait(alice, f"before {n}") for n in range(3)]
    async with asyncio.timeout(10):
        await reading
    assert sorted(reader.view.messages) == [message["id"] for message in read]

    # Meanwhile: a moderator deletes one she read; Bob talks on B, and one of his goes too.
    await delete_as_moderator(cluster, read[1]["id"])
    async with asyncio.timeout(5):
        seen_by_bob = await bob.next_frame("message_deleted")
    assert seen_by_bob["id"] == read[1]["id"]
    later = [await say_and_wait(bob, f"while away {n}") for n in range(3)]
    await delete_as_moderator(cluster, later[1]["id"])
    async with asyncio.timeout(5):
        await bob.next_frame("message_deleted")

    # She comes back on B, resuming from where she was.
    async with asyncio.timeout(10):
        await reader.read_until(cluster.b.url, seq=cluster.room_seq(room))

    shown = {message_id: message["seq"] for message_id, message in reader.view.messages.items()}
    assert shown == cluster.stored_seqs(room)
    assert sorted(shown) == [read[0]["id"], read[2]["id"], later[0]["id"], later[2]["id"]]
    assert reader.view.applied == sorted(set(reader.view.applied))
    welcome = reader.last_welcome
    assert (welcome["recovered"], welcome["history"]) == (True, [])
    # The message created and deleted while she was away replays as its deletion only.
    replayed = [(event["type"], event["id"]) for event in welcome["events"]]
    assert replayed == [
        ("message_deleted", read[1]["id"]),
        ("message", later[0]["id"]),
        ("message", later[2]["id"]),
        ("message_deleted", later[1]["id"]),
    ]
    assert reader.closes == []
