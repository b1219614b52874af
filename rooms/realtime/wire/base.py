"""What a socket writer needs of the server's transport (rooms.realtime.writer)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol


def always() -> bool:
    return True


class Wire(Protocol):
    """One client connection as the ASGI server holds it."""

    # True while the server's buffer for this client is below its high-water
    # mark. An attribute, the server's own check where it has one: it is
    # called for every frame to every socket.
    writable: Callable[[], bool]

    # Writes a whole WebSocket frame's bytes (wire.frames) as they are, or None
    # where frames must go through the ASGI server's own send.
    write_frames: Callable[[bytes], None] | None

    async def drained(self) -> None:
        """Return once the buffer is back below its low-water mark (or the connection is gone)."""
        ...

    def abort(self) -> None:
        """Drop the connection now, with whatever it still buffers."""
        ...


class UnknownWire:
    """A server we have no adapter for (or a test communicator): always writable, never aborted.

    Writes then await the server's `send` as ASGI intends; only uvicorn and
    daphne, which the Procfile and `runserver` run, get backpressure.
    """

    writable = staticmethod(always)
    write_frames: Callable[[bytes], None] | None = None

    async def drained(self) -> None:
        return None

    def abort(self) -> None:
        return None
