"""rooms.realtime.layers.FanOutInMemoryChannelLayer keeps Channels' in-memory semantics, cheaper."""

from __future__ import annotations

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
