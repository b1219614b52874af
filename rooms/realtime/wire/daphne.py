"""daphne: a Twisted push producer on the client's transport is the flow control.

daphne's `send` never waits: it writes into Twisted's unbounded buffer. Twisted
tells a registered streaming producer when that buffer passes its high-water
mark (`bufferSize`) and when it drains, and we stop reading from the client
meanwhile, so its pings cannot queue pongs without limit either.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from typing import Any


class DaphneWire:
    """A client's Twisted transport, registered to tell us when its buffer is full."""

    def __init__(self, transport: Any, send_buffer: int) -> None:
        self._transport = transport
        handle = transport.getHandle()
        if send_buffer and isinstance(handle, socket.socket):  # not under TLS (an OpenSSL Connection)
            handle.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, send_buffer)
        # daphne runs Twisted on the asyncio reactor: its callbacks run on this loop.
        self._drained = asyncio.Event()
        self._drained.set()
        self.writable = self._drained.is_set
        self.write_frames: Callable[[bytes], None] | None = None  # autobahn frames what daphne sends
        # The HTTP channel that upgraded the connection is still registered, though it no
        # longer owns the transport; we take its place.
        if transport.producer is not None:
            transport.unregisterProducer()
        transport.registerProducer(self, True)

    async def drained(self) -> None:
        await self._drained.wait()

    def abort(self) -> None:
        self._transport.abortConnection()

    # Twisted's IPushProducer, called by the transport.

    def pauseProducing(self) -> None:
        self._drained.clear()
        self._transport.pauseProducing()

    def resumeProducing(self) -> None:
        self._drained.set()
        if self._transport.disconnecting:
            # Twisted finishes a close only once no paused producer is left.
            self._transport.unregisterProducer()
        else:
            self._transport.resumeProducing()

    def stopProducing(self) -> None:
        self._drained.set()
