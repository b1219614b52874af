"""rooms.realtime.hub: one subscription per room per process; each frame reaches each local socket once."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field

import pytest
from channels.layers import get_channel_layer

from rooms.realtime.hub import RoomHub, room_broadcast
from rooms.realtime.process import transport
from rooms.realtime.protocol import outbound
from rooms.realtime.protocol.layer import RoomEvent, room_event, room_group

pytestmark = pytest.mark.asyncio

SETTLE = 0.2  # long enough for a frame to cross the channel layer (Redis included)


@dataclass(eq=False)
class Socket:
    """A socket as the hub sees it (rooms.realtime.hub.RoomSocket), recording what it was given."""

    channel_name: str
    broken: bool = False
    written: list[str] = field(default_factory=list)
    closed_with: list[str] = field(default_factory=list)

    def gather(self, send: dict) -> bool:
        return False  # as a socket whose wire takes no frame bytes: everything through deliver()

    async def deliver(self, event: dict, send: dict) -> None:
        if self.broken:
            raise RuntimeError("Unexpected ASGI message 'websocket.send', after sending 'websocket.close'")
        self.written.append(send["text"])

    async def close_room(self, send: dict) -> None:
        self.closed_with.append(send["text"])


def groups_called(monkeypatch, method: str) -> list[str]:
    """The groups the channel layer's `method` (group_add or group_discard) is called with from now on."""
    layer, groups = get_channel_layer(), []
    original = getattr(layer, method)

    async def recording(group: str, channel: str) -> None:
        groups.append(group)
        await original(group, channel)

    monkeypatch.setattr(layer, method, recording)
    return groups


@pytest.fixture
def hub() -> RoomHub:
    """This process's room hub, empty."""
    return transport().hub


async def test_a_broadcast_reaches_every_local_socket_of_the_room_once(hub):
    """Two sockets in General each get the frame once; a socket in Sports gets nothing."""
    alice, bob, carol = Socket("alice"), Socket("bob"), Socket("carol")
    await hub.add("general", alice)
    await hub.add("general", bob)
    await hub.add("sports", carol)

    await room_broadcast("general", outbound.user_joined(outbound.member(user_id=1, name="Dan")))
    await asyncio.sleep(SETTLE)

    expected = outbound.encode(outbound.user_joined(outbound.member(user_id=1, name="Dan")))
    assert alice.written == [expected]
    assert bob.written == [expected]
    assert carol.written == []


async def test_the_skipped_socket_does_not_get_its_own_arrival(hub):
    """`skip` leaves out one socket (a newcomer is not told of itself)."""
    alice, bob = Socket("alice"), Socket("bob")
    await hub.add("general", alice)
    await hub.add("general", bob)

    await room_broadcast("general", outbound.user_joined(outbound.member(user_id=2, name="Bob")), skip="bob")
    await asyncio.sleep(SETTLE)

    assert len(alice.written) == 1
    assert bob.written == []


async def test_a_socket_that_fails_to_write_does_not_stop_the_others(hub):
    """A socket closing right now raises on write; the rest of the room still gets the frame."""
    sockets = [Socket(f"s{n}", broken=n % 2 == 0) for n in range(6)]
    for socket in sockets:
        await hub.add("general", socket)

    await room_broadcast("general", outbound.message_deleted(7, seq=7))
    await asyncio.sleep(SETTLE)

    assert [len(socket.written) for socket in sockets] == [0, 1, 0, 1, 0, 1]


async def test_an_event_of_a_type_this_release_does_not_know_is_ignored(hub):
    """A later release's event (a rolling deploy) reaches no socket and closes none; the next frame does."""
    alice = Socket("alice")
    await hub.add("general", alice)

    await get_channel_layer().group_send(room_group("general"), {"type": "room.from_later", "frame": "{}"})
    await room_broadcast("general", outbound.message_deleted(7, seq=7))
    await asyncio.sleep(SETTLE)

    assert alice.written == [outbound.encode(outbound.message_deleted(7, seq=7))]
    assert alice.closed_with == []


async def test_room_closed_goes_to_close_room_not_deliver(hub):
    """An archived room's event tells every socket to close, with the room_closed frame."""
    alice = Socket("alice")
    await hub.add("general", alice)

    event = room_event(outbound.room_closed(), kind=RoomEvent.CLOSED)
    await hub.deliver("general", event)

    assert alice.closed_with == [outbound.encode(outbound.room_closed())]
    assert alice.written == []


async def test_a_room_without_local_sockets_is_left(hub, monkeypatch):
    """Once its last socket is removed, the process leaves the room's group; not while one remains."""
    left = groups_called(monkeypatch, "group_discard")
    alice, bob = Socket("alice"), Socket("bob")
    await hub.add("general", alice)
    await hub.add("general", bob)

    await hub.remove("general", alice)
    assert left == []
    await hub.remove("general", bob)

    assert left == [room_group("general")]
    assert hub.sockets("general") == []
    assert hub.slugs() == []


async def test_one_subscription_serves_every_socket_of_a_room(hub, monkeypatch):
    """However many local sockets a room has, the process joins the room's group once."""
    joined = groups_called(monkeypatch, "group_add")
    sockets = [Socket(f"s{n}") for n in range(5)]
    for socket in sockets:
        await hub.add("general", socket)
    await room_broadcast("general", outbound.message_deleted(7, seq=7))
    await asyncio.sleep(SETTLE)

    assert joined == [room_group("general")]
    assert all(len(socket.written) == 1 for socket in sockets)


@dataclass(eq=False)
class SlowSocket(Socket):
    """A socket whose first write takes a while (its consumer is busy closing, say)."""

    user_id: int = 0
    pause: float = 0.3

    async def deliver(self, event: dict, send: dict) -> None:
        pause, self.pause = self.pause, 0.0
        await asyncio.sleep(pause)
        batch = event.get("batch")
        self.written.append(send["text"] if batch is None else batch.since(0)["text"])


async def test_presence_news_that_comes_while_news_is_being_sent_goes_out_too(hub, settings):
    """A join that arrives while the last one's fan-out waits goes out after it, with nothing to push it."""
    settings.CHAT_PRESENCE_COALESCE = 0.05
    watcher = SlowSocket("watcher")
    await hub.add("general", watcher)
    try:
        ann = outbound.member(user_id=1, name="Ann")
        ben = outbound.member(user_id=2, name="Ben")
        await hub.deliver("general", room_event(outbound.user_joined(ann), version=11))
        await asyncio.sleep(0.1)  # its fan-out has started, and waits on the slow socket
        await hub.deliver("general", room_event(outbound.user_joined(ben), version=12))
        await asyncio.sleep(0.6)

        assert [json.loads(text)["user"]["name"] for text in watcher.written] == ["Ann", "Ben"]
    finally:
        await hub.remove("general", watcher)
