"""rooms.realtime.layers.FanOutInMemoryChannelLayer keeps Channels' in-memory semantics, cheaper."""

from __future__ import annotations

import asyncio

import pytest

from rooms.realtime import layers
from rooms.realtime.layers import FanOutInMemoryChannelLayer

pytestmark = pytest.mark.asyncio

EVENT = {"type": "room.frame", "frame": '{"type":"message"}'}


async def test_group_send_reaches_every_member_once():
    """Each member of the group gets the event; others get nothing."""
    layer = FanOutInMemoryChannelLayer()
    members = [await layer.new_channel() for _ in range(3)]
    outsider = await layer.new_channel()
    for channel in members:
        await layer.group_add("room.general", channel)
    await layer.group_send("room.general", EVENT)
    for channel in members:
        assert await layer.receive(channel) == EVENT
    assert outsider not in layer.channels


async def test_full_member_is_skipped_and_others_still_get_it():
    """A member at capacity drops the event (as Channels does); the rest receive it."""
    layer = FanOutInMemoryChannelLayer(capacity=1)
    slow, quick = await layer.new_channel(), await layer.new_channel()
    for channel in (slow, quick):
        await layer.group_add("room.general", channel)
    await layer.group_send("room.general", {"type": "first"})
    await layer.receive(quick)
    await layer.group_send("room.general", {"type": "second"})
    assert (await layer.receive(slow))["type"] == "first"
    assert (await layer.receive(quick))["type"] == "second"
    assert slow not in layer.channels


async def test_expired_messages_are_swept_and_their_channel_leaves_groups(monkeypatch):
    """An unread message past `expiry` is dropped and its channel leaves the group."""
    layer = FanOutInMemoryChannelLayer(expiry=60)
    channel = await layer.new_channel()
    await layer.group_add("room.general", channel)
    await layer.group_send("room.general", EVENT)
    clock = layers.time.time() + 120
    monkeypatch.setattr(layers.time, "time", lambda: clock)
    monkeypatch.setattr(layer, "_last_sweep", -1e9)
    layer._sweep()
    assert channel not in layer.channels
    assert channel not in layer.groups.get("room.general", {})


async def test_send_checks_the_message_type():
    """A non-dict message is refused, as the Channels layer spec says."""
    layer = FanOutInMemoryChannelLayer()
    with pytest.raises(TypeError):
        await layer.send(await layer.new_channel(), "not a dict")


async def test_a_group_membership_older_than_a_day_still_receives(monkeypatch):
    """A room occupied for days keeps hearing its events: memberships last until discarded."""
    layer = FanOutInMemoryChannelLayer()
    channel = await layer.new_channel()
    await layer.group_add("room.general", channel)
    two_days_later = layers.time.time() + 2 * 86400
    monkeypatch.setattr(layers.time, "time", lambda: two_days_later)
    monkeypatch.setattr(layer, "_last_sweep", -1e9)

    await layer.group_send("room.general", EVENT)  # sweeps first

    assert await asyncio.wait_for(layer.receive(channel), timeout=5) == EVENT


async def test_a_receiver_cancelled_after_a_message_woke_it_leaves_the_message_for_the_next():
    """Cancelling a receive (a socket closing) at the wrong moment loses no message: the next one gets it."""
    layer = FanOutInMemoryChannelLayer()
    channel = await layer.new_channel()
    first = asyncio.ensure_future(layer.receive(channel))
    second = asyncio.ensure_future(layer.receive(channel))
    await asyncio.sleep(0)  # both waiting now
    await layer.send(channel, EVENT)  # wakes the first ...
    first.cancel()  # ... which is cancelled before it runs
    with pytest.raises(asyncio.CancelledError):
        await first

    assert await asyncio.wait_for(second, timeout=5) == EVENT
    assert channel not in layer.channels


async def test_messages_come_out_in_the_order_they_went_in_to_each_waiting_receiver():
    """Two receivers waiting on one channel get one message each, in order."""
    layer = FanOutInMemoryChannelLayer()
    channel = await layer.new_channel()
    receivers = [asyncio.ensure_future(layer.receive(channel)) for _ in range(2)]
    await asyncio.sleep(0)
    for n in range(2):
        await layer.send(channel, {"type": "event", "n": n})

    assert [(await receiver)["n"] for receiver in receivers] == [0, 1]
    assert channel not in layer.channels


async def test_a_receiver_woken_but_overtaken_keeps_its_channel_and_hears_the_next_message():
    """A second receive taking the message first leaves the woken one waiting on the same channel."""
    layer = FanOutInMemoryChannelLayer()
    channel = await layer.new_channel()
    woken = asyncio.ensure_future(layer.receive(channel))
    await asyncio.sleep(0)
    await layer.send(channel, {"type": "first"})  # wakes it; before it runs ...
    assert (await layer.receive(channel))["type"] == "first"  # ... another receive takes the message
    await asyncio.sleep(0)
    await layer.send(channel, {"type": "second"})

    assert (await asyncio.wait_for(woken, timeout=5))["type"] == "second"
