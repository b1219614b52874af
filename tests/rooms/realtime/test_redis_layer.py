"""rooms.realtime.redis_layer: what a process publishes at once goes to Redis together, in order."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import pytest_asyncio
from django.conf import settings

from rooms.realtime.redis_layer import PipelinedRedisPubSubChannelLayer
from tests.rooms.realtime.redis_stats import reads_processed

pytestmark = [pytest.mark.asyncio, pytest.mark.services]

# A bound on a test that would otherwise hang, not a timed assertion.
PATIENCE = 10


@pytest_asyncio.fixture
async def layer():
    """Our Pub/Sub layer on the test Redis, with channels of its own (a fresh prefix)."""
    layer = PipelinedRedisPubSubChannelLayer(hosts=[settings.REDIS_URL], prefix=f"test-{uuid.uuid4().hex}.")
    yield layer
    await layer.flush()


async def test_messages_sent_together_arrive_in_order_and_reach_redis_together(layer):
    """Two hundred sends made at once all arrive, in the order made, in a handful of Redis reads (not 200)."""
    listener = await layer.new_channel()
    await layer.group_add("room.general", listener)
    await layer.group_send("room.general", {"type": "room.frame", "n": -1})  # connections open
    assert (await layer.receive(listener))["n"] == -1

    before = await reads_processed()
    await asyncio.wait_for(
        asyncio.gather(
            *(layer.group_send("room.general", {"type": "room.frame", "n": n}) for n in range(200))
        ),
        PATIENCE,
    )
    reads = await reads_processed() - before

    received = [(await asyncio.wait_for(layer.receive(listener), PATIENCE))["n"] for _ in range(200)]
    assert received == list(range(200))
    assert reads < 50, f"{reads} reads for 200 publishes: they went one round trip each"


async def test_messages_to_channels_and_groups_keep_one_order(layer):
    """A send to a channel and a send to a group, made together, arrive in the order made."""
    listener = await layer.new_channel()
    await layer.group_add("user.1", listener)
    await asyncio.gather(
        layer.send(listener, {"type": "first"}),
        layer.group_send("user.1", {"type": "second"}),
        layer.send(listener, {"type": "third"}),
    )
    kinds = [(await asyncio.wait_for(layer.receive(listener), PATIENCE))["type"] for _ in range(3)]
    assert kinds == ["first", "second", "third"]


async def test_when_redis_is_down_every_sender_hears_it():
    """Nothing listens at the address: the first send and those waiting behind it all fail, none hangs."""
    down = PipelinedRedisPubSubChannelLayer(hosts=["redis://127.0.0.1:1/0"], prefix="test-down.")
    try:
        results = await asyncio.wait_for(
            asyncio.gather(
                *(down.group_send("room.general", {"type": "room.frame", "n": n}) for n in range(3)),
                return_exceptions=True,
            ),
            PATIENCE,
        )
    finally:
        await down.flush()
    assert all(isinstance(result, Exception) for result in results), results


async def test_a_flush_while_sends_wait_answers_them_and_sending_goes_on(layer):
    """Flushed with sends waiting for their pipeline: they hear it, and later sends arrive as before."""
    sends = [
        asyncio.ensure_future(layer.group_send("room.general", {"type": "room.frame", "n": n}))
        for n in range(5)
    ]
    await asyncio.sleep(0)  # all five wait for one pipeline, whose task has not run yet
    await asyncio.wait_for(layer.flush(), PATIENCE)
    await asyncio.wait_for(asyncio.gather(*sends, return_exceptions=True), PATIENCE)  # none hangs

    listener = await layer.new_channel()
    await layer.group_add("room.general", listener)
    await asyncio.wait_for(
        asyncio.gather(*(layer.group_send("room.general", {"type": "room.frame", "n": n}) for n in range(3))),
        PATIENCE,
    )
    received = [(await asyncio.wait_for(layer.receive(listener), PATIENCE))["n"] for _ in range(3)]
    assert received == [0, 1, 2]


async def test_a_flush_right_after_a_send_leaves_the_layer_working(layer):
    """The pipeline task may be cancelled before it ever runs: that send hears it, the next ones arrive."""
    listener = await layer.new_channel()
    await layer.group_add("room.general", listener)
    early = asyncio.ensure_future(layer.group_send("room.general", {"type": "room.frame", "n": 0}))
    await asyncio.sleep(0)  # the send is waiting for its pipeline, whose task has not run yet
    await layer.flush()
    assert isinstance((await asyncio.gather(early, return_exceptions=True))[0], ConnectionError)

    listener = await layer.new_channel()
    await layer.group_add("room.general", listener)
    await asyncio.wait_for(layer.group_send("room.general", {"type": "room.frame", "n": 2}), PATIENCE)
    assert (await asyncio.wait_for(layer.receive(listener), PATIENCE))["n"] == 2
