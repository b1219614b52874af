"""uvicorn: its protocol's `writable` event is the transport's flow control.

`WebSocketProtocol` is what the Procfile runs (`--ws
rooms.realtime.wire.uvicorn:WebSocketProtocol`): uvicorn's websockets-sansio
protocol that stops reading from a client while that client is not reading
what we send. Otherwise every ping it sends queues a pong that never leaves
(a ping flood from a client that never reads grew the server by 160 MB in
6 s), and a keepalive timeout that closes politely waits for a flush that
never comes.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.protocol import State

from rooms.realtime.small_queues import SmallEvent, SmallQueue


class UvicornWire:
    """A uvicorn WebSocket protocol (any of its implementations) seen as a Wire.

    Over our websockets-sansio protocol with no extension negotiated, frames
    built once for many sockets (wire.frames) are written to the transport as
    they are: uvicorn's `send` would frame the same text again for every socket.
    """

    def __init__(self, protocol: Any, send_buffer: int) -> None:
        self._protocol = protocol
        self._writable = protocol.writable
        self.writable = protocol.writable.is_set
        sock = protocol.transport.get_extra_info("socket")
        if sock is not None and send_buffer:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, send_buffer)
        raw = isinstance(protocol, WebSocketsSansIOProtocol) and not protocol.conn.extensions
        self.write_frames: Callable[[bytes], None] | None = self._write_frames if raw else None

    def _write_frames(self, frames: bytes) -> None:
        protocol = self._protocol
        # What uvicorn's send checks; a frame after the close frame would break the protocol.
        if protocol.disconnected or protocol.close_sent or protocol.conn.state is not State.OPEN:
            return
        protocol.transport.write(frames)

    async def drained(self) -> None:
        await self._writable.wait()

    def abort(self) -> None:
        self._protocol.transport.abort()


class WebSocketProtocol(WebSocketsSansIOProtocol):
    """websockets-sansio that reads nothing more from a client while its write buffer is full.

    Its receive queue and its writable event are small ones (small_queues):
    uvicorn uses only put_nowait, get and empty of the one, and is_set, set,
    clear and wait of the other.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.queue = SmallQueue()  # type: ignore[assignment]
        self.writable = SmallEvent(is_set=True)  # type: ignore[assignment]

    def pause_writing(self) -> None:
        super().pause_writing()
        self.transport.pause_reading()

    def resume_writing(self) -> None:
        super().resume_writing()
        # uvicorn pauses reading too when the app's receive queue is full: that one it resumes.
        if not self.read_paused:
            self.transport.resume_reading()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        # uvicorn resumes reading when the app drains its receive queue, write buffer full or not.
        if not self.writable.is_set():
            self.transport.pause_reading()

    def start_keepalive(self) -> None:
        # Called once the accept is written: the handshake's request and response, headers
        # and all, are never read again, and each socket would hold both as long as it is open.
        # websockets' parser keeps the request too, a local of its generator for the socket's
        # life: its headers (a few KB) are emptied in place, not only let go of here.
        self.request.headers.clear()
        self.request = None  # type: ignore[assignment]
        self.response = None  # type: ignore[assignment]
        super().start_keepalive()

    def keepalive_timeout(self) -> None:
        super().keepalive_timeout()
        # A client that answers no ping reads nothing either: a polite close would wait forever.
        if self.transport.get_write_buffer_size():
            self.transport.abort()
