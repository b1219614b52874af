"""SocketWriter: bounded, in-order, and never waiting on a client that does not read.

The wire here is a stand-in whose fullness the test sets; the real servers'
are exercised in tests/integration/test_backpressure.py.
"""

from __future__ import annotations

import asyncio

import pytest

from rooms.realtime.wire import wire_for
from rooms.realtime.wire.base import UnknownWire
from rooms.realtime.wire.frames import SharedFrame, text_frame
from rooms.realtime.writer import SocketWriter

pytestmark = pytest.mark.asyncio


class StandInWire:
    """A server buffer that is full or not, as the test says; it takes frame bytes if told to."""

    def __init__(self, *, takes_frames: bool = False) -> None:
        self._drained = asyncio.Event()
        self._drained.set()
        self.aborted = False
        self.writes: list[bytes] = []  # what write_frames was given, one entry per call
        self.write_frames = self._take if takes_frames else None
        self.log: list[str] = []  # every write, ASGI or bytes, in order (Socket adds its own)
        self.fill_on_write = False  # frame bytes written fill the buffer (a client that stopped reading)

    def _take(self, frames: bytes) -> None:
        self.writes.append(frames)
        self.log.append(f"bytes of {frames.count(b'shared')} shared")
        if self.fill_on_write:
            self.fill()

    def fill(self) -> None:
        self._drained.clear()

    def drain(self) -> None:
        self._drained.set()

    def writable(self) -> bool:
        return self._drained.is_set()

    async def drained(self) -> None:
        await self._drained.wait()

    def abort(self) -> None:
        self.aborted = True


class Socket:
    """What the writer writes to, and whether it was told the client is too slow."""

    def __init__(self, *, takes_frames: bool = False) -> None:
        self.wire = StandInWire(takes_frames=takes_frames)
        self.sent: list[dict] = []
        self.too_slow = asyncio.Event()
        self.writer = SocketWriter(self.send, self.wire, on_too_slow=self.on_too_slow)

    async def send(self, message: dict) -> None:
        self.sent.append(message)
        self.wire.log.append(message.get("text", message["type"]))

    async def on_too_slow(self) -> None:
        self.too_slow.set()

    def texts(self) -> list[str]:
        return [message.get("text", message["type"]) for message in self.sent]


def frame(text: str) -> dict:
    return {"type": "websocket.send", "text": text}


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


@pytest.fixture
def socket(settings) -> Socket:
    settings.CHAT_SEND_QUEUE_FRAMES = 3
    settings.CHAT_SEND_QUEUE_BYTES = 100
    settings.CHAT_SLOW_SOCKET_TIMEOUT = 0.2
    return Socket()


async def test_a_frame_goes_out_at_once_while_the_wire_takes_it(socket):
    await socket.writer.write(frame("hello"))

    assert socket.texts() == ["hello"]


async def test_frames_wait_while_the_wire_is_full_and_go_out_in_order(socket):
    """Queued frames leave in order once the client reads; a later write never overtakes them."""
    await socket.writer.write(frame("1"))
    socket.wire.fill()
    await socket.writer.write(frame("2"))
    await socket.writer.write(frame("3"))
    assert socket.texts() == ["1"]

    socket.wire.drain()
    await socket.writer.write(frame("4"))
    await settle()

    assert socket.texts() == ["1", "2", "3", "4"]
    assert not socket.too_slow.is_set()


async def test_more_frames_than_the_queue_holds_cut_the_socket_off(socket):
    socket.wire.fill()
    for n in range(4):
        await socket.writer.write(frame(str(n)))
    await settle()

    assert socket.too_slow.is_set()
    assert socket.writer.cut_off
    socket.wire.drain()
    await settle()
    assert socket.texts() == []  # what was queued is dropped: the client resumes from the event log


async def test_more_bytes_than_the_queue_holds_cut_the_socket_off(socket):
    """The byte bound counts UTF-8: 34 three-byte characters are 102 bytes."""
    socket.wire.fill()
    await socket.writer.write(frame("€" * 34))
    await settle()

    assert socket.too_slow.is_set()


async def test_a_wire_full_past_the_deadline_cuts_the_socket_off(socket):
    socket.wire.fill()
    await socket.writer.write(frame("waiting"))

    await asyncio.wait_for(socket.too_slow.wait(), 2)

    assert socket.writer.cut_off


async def test_presence_news_is_dropped_first_and_the_socket_then_resumes(socket):
    """A full queue drops ephemeral frames first; having missed them, the caught-up socket is closed."""
    socket.wire.fill()
    await socket.writer.write(frame("joined"), ephemeral=True)
    await socket.writer.write(frame("m1"))
    await socket.writer.write(frame("m2"))
    await socket.writer.write(frame("m3"))
    assert not socket.too_slow.is_set()

    socket.wire.drain()
    await settle()

    assert socket.texts() == ["m1", "m2", "m3"]
    assert socket.too_slow.is_set()


async def test_close_goes_after_what_is_queued(socket):
    socket.wire.fill()
    await socket.writer.write(frame("last words"))
    await socket.writer.close(4404)
    await socket.writer.write(frame("after the close"))

    socket.wire.drain()
    await settle()

    assert socket.texts() == ["last words", "websocket.close"]
    assert socket.sent[-1]["code"] == 4404


async def test_a_close_the_client_never_takes_drops_the_connection(socket):
    """A client that reads nothing cannot read a close frame either: the connection is aborted."""
    socket.wire.fill()
    await socket.writer.close(4013)

    await asyncio.sleep(0.4)

    assert socket.wire.aborted
    assert socket.texts() == []


async def test_a_server_without_an_adapter_is_written_to_as_asgi_intends():
    """A test communicator's send (or an unknown server's) gets no flow control of ours."""
    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    assert isinstance(wire_for(send), UnknownWire)


async def test_the_close_frame_goes_out_even_when_the_queue_is_full(socket):
    """A close never cuts the socket off: the client must learn why it was closed."""
    socket.wire.fill()
    for n in range(3):
        await socket.writer.write(frame(str(n)))
    await socket.writer.close(4401)

    socket.wire.drain()
    await settle()

    assert socket.texts() == ["0", "1", "2", "websocket.close"]
    assert not socket.too_slow.is_set()


async def test_nothing_is_written_after_the_close(socket):
    await socket.writer.close(4404)
    await socket.writer.write(frame("too late"))

    assert socket.texts() == ["websocket.close"]


# Disposable frames (typing): worth nothing late, so never queued.


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


# Frames shared by many sockets, on a wire that takes frame bytes (uvicorn's).


async def test_a_text_frame_is_what_websockets_writes_for_it():
    """Unmasked, FIN, text: each of the three length encodings, and text beyond ASCII."""
    from websockets.frames import OP_TEXT, Frame

    for text in ("hi", "é" * 100, "x" * 70_000):
        expected = Frame(OP_TEXT, text.encode()).serialize(mask=False, extensions=[])
        assert text_frame(text) == expected


async def test_shared_frames_written_while_the_loop_is_busy_go_out_in_one_write(settings):
    socket = Socket(takes_frames=True)
    for n in range(3):
        await socket.writer.write(SharedFrame(f"frame {n}"))
    assert socket.wire.writes == []  # not yet: the loop has not run what is ready

    await settle()

    assert socket.wire.writes == [text_frame("frame 0") + text_frame("frame 1") + text_frame("frame 2")]
    assert socket.sent == []


async def test_sockets_sharing_a_loop_pass_each_get_one_write_of_their_own_frames(settings):
    """A fan-out to several sockets: each socket's frames, in order, in one write to that socket alone."""
    sockets = [Socket(takes_frames=True) for _ in range(3)]
    for n in range(2):
        for socket in sockets:
            await socket.writer.write(SharedFrame(f"shared {n}"))
    await sockets[1].writer.write(frame("just for you"))  # this one's gathered bytes go first

    await settle()

    both = text_frame("shared 0") + text_frame("shared 1")
    assert [socket.wire.writes for socket in sockets] == [[both], [both], [both]]
    assert sockets[1].wire.log == ["bytes of 2 shared", "just for you"]


async def test_a_frame_of_this_socket_alone_never_overtakes_gathered_ones(settings):
    """The welcome, an error, the close: what gathered so far is written first."""
    socket = Socket(takes_frames=True)
    await socket.writer.write(SharedFrame("shared 1"))
    await socket.writer.write(SharedFrame("shared 2"))
    await socket.writer.write(frame("just for you"))
    await socket.writer.write(SharedFrame("shared 3"))
    await socket.writer.close(4000)
    await settle()

    assert socket.wire.log == ["bytes of 2 shared", "just for you", "bytes of 1 shared", "websocket.close"]


async def test_a_wire_that_takes_no_frame_bytes_gets_every_frame_through_the_asgi_send(settings):
    socket = Socket()
    await socket.writer.write(SharedFrame("shared"))
    assert socket.texts() == ["shared"]


async def test_a_frame_after_gathered_ones_that_filled_the_wire_waits_its_turn_instead_of_blocking(settings):
    """The gathered bytes go first and fill the wire: the reply behind them queues, it does not wait."""
    settings.CHAT_SLOW_SOCKET_TIMEOUT = 5
    socket = Socket(takes_frames=True)
    socket.wire.fill_on_write = True
    await socket.writer.write(SharedFrame("shared"))
    await socket.writer.write(frame("just for you"))  # in the same pass: the gathered bytes are still here

    assert socket.wire.log == ["bytes of 1 shared"]
    socket.wire.drain()
    await settle()
    assert socket.wire.log == ["bytes of 1 shared", "just for you"]
