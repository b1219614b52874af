"""rooms.realtime.redis_layer: what a process publishes at once goes to Redis together, in order."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import pytest_asyncio
import redis.asyncio as aioredis
from channels_redis.pubsub import RedisPubSubChannelLayer
from django.conf import settings

from rooms.realtime.redis_layer import BATCH, PipelinedRedisPubSubChannelLayer
from tests.rooms.realtime.redis_stats import reads_processed

pytestmark = [pytest.mark.asyncio, pytest.mark.services]

# A bound on a test that would otherwise hang, not a timed assertion.
PATIENCE = 10


@pytest.fixture
def prefix() -> str:
    """A prefix of channel names no other test uses."""
    return f"test-{uuid.uuid4().hex}."


@pytest_asyncio.fixture
async def layer(prefix):
    """Our Pub/Sub layer on the test Redis, with channels of its own (a fresh prefix)."""
    layer = PipelinedRedisPubSubChannelLayer(hosts=[settings.REDIS_URL], prefix=prefix)
    yield layer
    await layer.flush()


@pytest_asyncio.fixture
async def group_on_the_wire(prefix):
    """A plain Redis subscriber to the Redis channel of group room.general: what Redis carries for it."""
    client = aioredis.Redis.from_url(settings.REDIS_URL)
    pubsub = client.pubsub()
    await pubsub.subscribe(f"{prefix}__group__room.general")  # channels-redis's name for the group
    yield pubsub
    await pubsub.aclose()
    await client.aclose()


async def messages_carried(pubsub) -> int:
    """How many Pub/Sub messages the subscriber gets until the channel has been quiet for a moment."""
    count = 0
    while (message := await pubsub.get_message(timeout=0.5)) is not None:
        count += message["type"] == "message"  # not the subscription's confirmation
    return count


@pytest_asyncio.fixture
async def earlier_release(prefix):
    """channels-redis's own layer on the same channels: how a process of the release before reads them."""
    earlier = RedisPubSubChannelLayer(hosts=[settings.REDIS_URL], prefix=prefix)
    yield earlier
    await earlier.flush()


async def send_together(layer, group: str, events: list[dict]) -> None:
    """Send the events to the group at once (one pipeline); return when Redis has them all."""
    await asyncio.wait_for(asyncio.gather(*(layer.group_send(group, event) for event in events)), PATIENCE)


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


async def test_events_sent_together_to_one_group_cross_redis_as_a_few_messages(layer, group_on_the_wire):
    """A hundred sends at once to a room's group: every event arrives, in order, in a few Pub/Sub messages."""
    listener = await layer.new_channel()
    await layer.group_add("room.general", listener)
    await layer.group_send("room.general", {"type": "room.frame", "n": -1})  # connections open
    assert (await asyncio.wait_for(layer.receive(listener), PATIENCE))["n"] == -1
    assert await messages_carried(group_on_the_wire) == 1

    await send_together(layer, "room.general", [{"type": "room.frame", "n": n} for n in range(100)])

    received = [(await asyncio.wait_for(layer.receive(listener), PATIENCE))["n"] for _ in range(100)]
    assert received == list(range(100))
    carried = await messages_carried(group_on_the_wire)
    assert carried < 20, f"{carried} Pub/Sub messages for 100 events: one each"


async def test_every_local_channel_of_the_group_gets_each_event_of_a_batch_in_order(layer):
    """Two channels in one room's group (two processes' hubs, here one) both get all of a batch, in order."""
    first, second = await layer.new_channel(), await layer.new_channel()
    await layer.group_add("room.general", first)
    await layer.group_add("room.general", second)
    await send_together(layer, "room.general", [{"type": "room.frame", "n": n} for n in range(5)])
    for channel in (first, second):
        received = [(await asyncio.wait_for(layer.receive(channel), PATIENCE))["n"] for _ in range(5)]
        assert received == [0, 1, 2, 3, 4]


async def test_sends_to_a_group_around_a_send_to_a_channel_keep_their_order(layer):
    """Group, group, channel, group, made together: one listener gets them in the order made."""
    listener = await layer.new_channel()
    await layer.group_add("user.1", listener)
    await asyncio.wait_for(
        asyncio.gather(
            layer.group_send("user.1", {"type": "first"}),
            layer.group_send("user.1", {"type": "second"}),
            layer.send(listener, {"type": "third"}),
            layer.group_send("user.1", {"type": "fourth"}),
        ),
        PATIENCE,
    )
    kinds = [(await asyncio.wait_for(layer.receive(listener), PATIENCE))["type"] for _ in range(4)]
    assert kinds == ["first", "second", "third", "fourth"]


async def test_a_process_of_the_release_before_sees_a_batch_as_one_event_of_a_type_it_does_not_know(
    layer, earlier_release
):
    """channels-redis's own layer (an earlier release) gets a room's batch whole, as an event it ignores."""
    listener = await earlier_release.new_channel()
    await earlier_release.group_add("room.general", listener)
    await send_together(layer, "room.general", [{"type": "room.frame", "n": n} for n in range(3)])

    event = await asyncio.wait_for(earlier_release.receive(listener), PATIENCE)
    assert event["type"] == BATCH  # not a type of rooms.realtime.protocol.layer: its hub logs and drops it
    assert [earlier_release.deserialize(payload)["n"] for payload in event["payloads"]] == [0, 1, 2]


async def test_sends_together_to_a_users_group_reach_a_process_of_the_release_before_one_by_one(
    layer, earlier_release
):
    """Only rooms' groups are batched: a consumer of an earlier release gets each user event as itself."""
    listener = await earlier_release.new_channel()
    await earlier_release.group_add("user.1", listener)
    await send_together(layer, "user.1", [{"type": "user.read", "seq": n} for n in range(3)])

    events = [await asyncio.wait_for(earlier_release.receive(listener), PATIENCE) for _ in range(3)]
    assert [(event["type"], event["seq"]) for event in events] == [("user.read", n) for n in range(3)]


async def test_room_events_a_page_cannot_fetch_again_reach_a_process_of_the_release_before_one_by_one(
    layer, earlier_release
):
    """Presence news, typing, a closing and an access change go unbatched: an earlier hub acts on each."""
    listener = await earlier_release.new_channel()
    await earlier_release.group_add("room.general", listener)
    unlogged = [
        {"type": "room.frame", "frame": "{}", "version": 1},
        {"type": "room.frame", "frame": "{}", "version": 2},
        {"type": "room.ephemeral", "frame": "{}", "typist": 3},
        {"type": "room.closed", "frame": "{}"},
        {"type": "room.access"},
    ]
    await send_together(layer, "room.general", unlogged)

    events = [await asyncio.wait_for(earlier_release.receive(listener), PATIENCE) for _ in range(5)]
    assert events == unlogged


async def test_an_event_that_cannot_be_encoded_fails_its_sender_alone(layer):
    """Sent together with others: that sender hears why, the others' events arrive."""
    listener = await layer.new_channel()
    await layer.group_add("room.general", listener)
    results = await asyncio.wait_for(
        asyncio.gather(
            layer.group_send("room.general", {"type": "room.frame", "n": 0}),
            layer.group_send("room.general", {"type": "room.frame", "n": object()}),
            layer.group_send("room.general", {"type": "room.frame", "n": 2}),
            return_exceptions=True,
        ),
        PATIENCE,
    )
    assert results[0] is None
    assert results[2] is None
    assert isinstance(results[1], TypeError)
    received = [(await asyncio.wait_for(layer.receive(listener), PATIENCE))["n"] for _ in range(2)]
    assert received == [0, 2]


async def test_a_message_that_does_not_decode_is_dropped_and_the_next_arrives(layer, prefix, caplog):
    """Bytes on the group that are no event, or no dict, are logged and dropped; the next event arrives."""
    listener = await layer.new_channel()
    await layer.group_add("room.general", listener)
    client = aioredis.Redis.from_url(settings.REDIS_URL)
    try:
        await client.publish(f"{prefix}__group__room.general", b"\xc1 not msgpack")
        await client.publish(f"{prefix}__group__room.general", layer.serialize([1, 2]))
        await client.publish(f"{prefix}__group__room.general", layer.serialize({"type": BATCH}))
    finally:
        await client.aclose()
    await layer.group_send("room.general", {"type": "room.frame", "n": 1})

    assert (await asyncio.wait_for(layer.receive(listener), PATIENCE))["n"] == 1
    assert caplog.text.count("does not decode") == 3
