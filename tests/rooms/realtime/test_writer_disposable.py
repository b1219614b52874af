"""SocketWriter's disposable frames (typing): written while the way is clear, else dropped, never queued.

Uses test_writer's stand-in wire, whose fullness the test sets.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.rooms.realtime.test_writer import Socket, frame, settle

pytestmark = pytest.mark.asyncio


@pytest.fixture
def socket(settings) -> Socket:
    settings.CHAT_SEND_QUEUE_FRAMES = 3
    settings.CHAT_SEND_QUEUE_BYTES = 100
    settings.CHAT_SLOW_SOCKET_TIMEOUT = 0.2
    return Socket()


async def test_a_disposable_frame_is_written_while_the_wire_takes_it_and_nothing_waits(socket):
    """Empty queue, writable wire: it goes out at once."""
    await socket.writer.write(frame("typing"), disposable=True)

    assert socket.texts() == ["typing"]


async def test_a_disposable_frame_is_dropped_while_the_wire_is_full(socket):
    """Not queued nor written once the wire drains; no cut-off or close follows past the deadline."""
    socket.wire.fill()
    for _ in range(5):  # more than the queue holds: queued, they would cut the socket off
        await socket.writer.write(frame("typing"), disposable=True)

    await asyncio.sleep(0.3)  # past CHAT_SLOW_SOCKET_TIMEOUT
    socket.wire.drain()
    await socket.writer.write(frame("m1"))
    await settle()

    assert socket.texts() == ["m1"]
    assert not socket.too_slow.is_set()
    assert not socket.writer.cut_off
    assert not socket.wire.aborted


async def test_a_disposable_frame_is_dropped_while_frames_are_queued(socket):
    """The wire takes more but a frame still waits: the typing frame is dropped, not sent ahead or after."""
    socket.wire.fill()
    await socket.writer.write(frame("m1"))
    socket.wire.drain()  # writable, but m1 has not left yet

    await socket.writer.write(frame("typing"), disposable=True)
    await settle()

    assert socket.texts() == ["m1"]
    assert not socket.too_slow.is_set()


async def test_a_disposable_frame_goes_out_again_once_the_queue_has_drained(socket):
    """Dropped while m1 waited; written once m1 is out."""
    socket.wire.fill()
    await socket.writer.write(frame("m1"))
    await socket.writer.write(frame("typing 1"), disposable=True)
    socket.wire.drain()
    await settle()

    await socket.writer.write(frame("typing 2"), disposable=True)

    assert socket.texts() == ["m1", "typing 2"]


async def test_a_disposable_frame_is_not_written_after_the_close(socket):
    """The close frame is the last thing out, typing included."""
    await socket.writer.close(4404)
    await socket.writer.write(frame("typing"), disposable=True)

    assert socket.texts() == ["websocket.close"]
