"""Two real server processes, uvicorn and daphne, sharing PostgreSQL and Redis (services pass only)."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterator

import pytest

from tests.integration.cluster import Cluster, postgres_database, start_cluster
from tests.servers import RedisServer

pytestmark = [pytest.mark.services, pytest.mark.asyncio]

PRESENCE_TTL = 2  # seconds; renewed every TTL/3
RATE_LIMIT = 4


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    """A PostgreSQL database of this module's own, migrated."""
    with postgres_database("lets_talk_scale") as url:
        yield url


@pytest.fixture
def redis_server(tmp_path) -> Iterator[RedisServer]:
    """A Redis of the test's own, which the test may crash and restart."""
    server = RedisServer(tmp_path).start()
    try:
        yield server
    finally:
        server.kill()


@pytest.fixture
def cluster(tmp_path, database, redis_server) -> Iterator[Cluster]:
    """Two server processes (A and B) on one database and one Redis, and the users' ids."""
    # A runs as production does (uvicorn), B as `manage.py runserver` does (daphne).
    started = start_cluster(
        tmp_path,
        database=database,
        redis_url=redis_server.url,
        users=("alice", "bob"),
        servers=("uvicorn", "daphne"),
        PRESENCE_TTL=str(PRESENCE_TTL),
        CHAT_RATE_LIMIT=str(RATE_LIMIT),
        CHAT_RATE_WINDOW="60",
    )
    try:
        yield started
    finally:
        started.stop()


async def test_people_on_two_servers_chat_and_see_each_other(cluster, clients):
    """Alice on A and Bob on B get each other's messages and presence."""
    alice = await clients(cluster.client(cluster.a, "alice"))
    bob = await clients(cluster.client(cluster.b, "bob"))
    assert {u["name"] for u in bob.welcome["users"]} == {"Alice", "Bob"}
    async with asyncio.timeout(5):
        joined = await alice.next_frame("user_joined")
    assert joined["user"]["name"] == "Bob"

    await alice.say("hello across processes")
    async with asyncio.timeout(5):
        to_bob = await bob.next_frame("message")
        to_alice = await alice.next_frame("message")
    assert to_bob == to_alice
    assert to_bob["text"] == "hello across processes"
    assert cluster.stored_ids() == [to_bob["id"]]


async def test_rate_limit_is_shared_across_servers(cluster, clients):
    """Alice's messages through A and through B count against one limit."""
    on_a = await clients(cluster.client(cluster.a, "alice"))
    on_b = await clients(cluster.client(cluster.b, "alice"))
    for client in (on_a, on_a, on_b, on_b):
        await client.say("counted")
        async with asyncio.timeout(5):
            await client.next_frame("message")
    await on_b.say("one too many")
    async with asyncio.timeout(5):
        refused = await on_b.next_frame("error")
    assert refused["code"] == "rate_limited"
    assert len(cluster.stored_ids()) == RATE_LIMIT


async def test_users_of_a_killed_server_leave_within_the_ttl(cluster, clients):
    """SIGKILL B: Bob (connected there) leaves presence and Alice is told."""
    alice = await clients(cluster.client(cluster.a, "alice"))
    await clients(cluster.client(cluster.b, "bob"))
    async with asyncio.timeout(5):
        await alice.next_frame("user_joined")

    cluster.b.process.send_signal(signal.SIGKILL)
    async with asyncio.timeout(PRESENCE_TTL * 5):
        left = await alice.next_frame("user_left")
    assert left["user"]["name"] == "Bob"
    newcomer = await clients(cluster.client(cluster.a, "bob"))
    assert [u["name"] for u in newcomer.welcome["users"]] == ["Alice", "Bob"]


async def test_clients_converge_after_a_redis_restart(cluster, clients, redis_server):
    """Redis dies mid-conversation and comes back empty: everyone ends with the stored history."""
    alice = await clients(cluster.client(cluster.a, "alice", reconnect=True))
    bob = await clients(cluster.client(cluster.b, "bob", reconnect=True))
    await alice.say("before the crash")
    async with asyncio.timeout(5):
        await bob.next_frame("message")

    # Alice talks while Redis is down; Bob only listens, so nothing of his own
    # would make him reconnect: his server must notice and restart his socket.
    redis_server.kill()
    for n in range(2):
        await alice.say(f"during the outage {n}")
        await asyncio.sleep(0.5)
    redis_server.start()
    await alice.say("after the restart")

    async with asyncio.timeout(30):
        while True:
            stored = cluster.stored_ids()
            if len(stored) == 4 and sorted(alice.messages) == stored == sorted(bob.messages):
                break
            await asyncio.sleep(0.2)
    assert not alice.pending
    assert 4012 in bob.closes
