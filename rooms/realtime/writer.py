"""SocketWriter: everything one socket sends, without ever making the sender wait on its client.

While the server's buffer for the client takes more (the wire is writable)
a frame is written at once, as before: no task, no copy. While it does not,
frames queue here, bounded by CHAT_SEND_QUEUE_FRAMES and CHAT_SEND_QUEUE_BYTES,
and one drain task writes them as the wire drains. A socket whose wire stays
full for CHAT_SLOW_SOCKET_TIMEOUT, or whose queue overflows, is cut off: its
queue is dropped and it closes with 4013 ("too slow: resume"); the event log
brings the client back without loss. So the room hub's fan-out never waits on
one reader, and what one socket can hold stays bounded.

Frames shared by many sockets (wire.frames.SharedFrame), where the wire takes
frame bytes, are gathered instead and written together once the event loop
has run what is ready: a socket that gets ten frames while the loop is busy
costs one write, not ten system calls. Anything else written to the socket
first writes what was gathered, so the order never changes. One callback per
pass of the loop writes every socket's gathered frames (GatheredWrites), not
one per socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from django.conf import settings

from rooms.realtime.wire.base import Wire
from rooms.realtime.wire.frames import SharedFrame

logger = logging.getLogger("rooms.ws")

Send = Callable[[dict], Awaitable[Any]]
TooSlow = Callable[[], Coroutine[Any, Any, None]]


class GatheredWrites:
    """One event loop's writers holding gathered frames: written together once the loop ran what is ready.

    One scheduled callback for all of them: a room event fanned out to 100
    sockets costs one, not 100 (each of those asked the loop for itself, and
    asyncio.get_running_loop() is a getpid() system call per call).
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._writers: list[SocketWriter] = []

    def add(self, writer: SocketWriter) -> None:
        if not self._writers:
            self._loop.call_soon(self._write_all)
        self._writers.append(writer)

    def _write_all(self) -> None:
        writers, self._writers = self._writers, []
        for writer in writers:
            writer.write_gathered()


_gathered_writes: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, GatheredWrites] = (
    weakref.WeakKeyDictionary()
)


def gathered_writes() -> GatheredWrites:
    """This event loop's GatheredWrites."""
    loop = asyncio.get_running_loop()
    batch = _gathered_writes.get(loop)
    if batch is None:
        batch = _gathered_writes[loop] = GatheredWrites(loop)
    return batch


class SocketWriter:
    """One socket's way out: written now, queued while its wire is full, or cut off."""

    def __init__(self, send: Send, wire: Wire, *, on_too_slow: TooSlow) -> None:
        self._send = send
        # Looked up at the first gathered frame: the writer may be made before its loop runs.
        self._gathered_writes: GatheredWrites | None = None
        self._wire = wire
        self._writable = wire.writable
        self._write_frames = wire.write_frames
        # Frame bytes gathered for one write (see the module's docstring).
        self._gathered: list[bytes] = []
        self._on_too_slow = on_too_slow
        # (ASGI message, its size in UTF-8 bytes, ephemeral): what waits for the wire. Made for the
        # first frame that waits, dropped once none does: most sockets never wait, and a deque is 760 bytes.
        self._queue: deque[tuple[dict, int, bool]] | None = None
        self._queued_bytes = 0
        self._drainer: asyncio.Task | None = None
        # Ephemeral frames (presence news) dropped to make room: the roster is stale.
        self._dropped_ephemeral = False
        self._closing = False
        self.cut_off = False

    async def write(self, message: dict, *, ephemeral: bool = False, disposable: bool = False) -> None:
        """Send an ASGI message: now while the wire takes it, else queued behind the others.

        `ephemeral`: presence news, dropped first when the queue is full.
        `disposable`: worth nothing late (typing): dropped rather than queued.
        """
        if self._closing or self.cut_off:
            return  # nothing may follow the close frame
        if type(message) is SharedFrame and self.gather(message):
            return
        if not self._queue and self._writable():
            if self._gathered:
                self.write_gathered()
                if not self._writable():  # those filled the wire: this one waits its turn
                    if not disposable:
                        self._enqueue(message, ephemeral=ephemeral)
                    return
            await self._send(message)
        elif not disposable:
            self._enqueue(message, ephemeral=ephemeral)

    def gather(self, frame: SharedFrame) -> bool:
        """Gather a shared frame for this loop pass's write, if that is how it goes; else False: write() it.

        Not a coroutine: the room hub calls it for every recipient of a message.
        """
        if self._queue or self._write_frames is None or self._closing or self.cut_off or not self._writable():
            return False
        if not self._gathered:
            if self._gathered_writes is None:
                self._gathered_writes = gathered_writes()
            self._gathered_writes.add(self)
        self._gathered.append(frame.wire_bytes)
        return True

    def write_gathered(self) -> None:
        """Write the frames gathered so far, in one write (GatheredWrites calls it once per loop pass)."""
        gathered = self._gathered
        if not gathered or self._write_frames is None:
            return
        self._gathered = []
        try:
            self._write_frames(gathered[0] if len(gathered) == 1 else b"".join(gathered))
        except Exception:
            # The connection is gone: its disconnect() cleans up.
            logger.debug("writing gathered frames failed", exc_info=True)

    async def close(self, code: int | None = None, reason: str | None = None) -> None:
        """Send the close frame after what is queued; drop the connection if the client never takes it.

        A client that does not read cannot receive a close frame either, and the
        server's polite close would wait on it forever.
        """
        if self._closing:
            return
        self.write_gathered()
        message: dict[str, Any] = {"type": "websocket.close"}
        if code is not None:
            message["code"] = code
        if reason:
            message["reason"] = reason
        if not self._queue and self._wire.writable():
            with contextlib.suppress(Exception):
                await self._send(message)
        else:
            # Past the queue's bounds if need be: the close frame is what the client must get.
            self._waiting().append((message, 0, False))
            if self._drainer is None:
                self._drainer = asyncio.get_running_loop().create_task(self._drain())
        self._closing = True
        asyncio.get_running_loop().call_later(settings.CHAT_SLOW_SOCKET_TIMEOUT, self._wire.abort)

    def _enqueue(self, message: dict, *, ephemeral: bool) -> None:
        self.write_gathered()  # before what waits: the order stays
        text = message.get("text")
        size = len(text.encode("utf-8", "surrogatepass")) if text else 0
        self._waiting().append((message, size, ephemeral))
        self._queued_bytes += size
        if self._over_bounds():
            self._drop_ephemeral()
            if self._over_bounds():
                return self._cut_off("its send queue is full")
        if self._drainer is None:
            self._drainer = asyncio.get_running_loop().create_task(self._drain())

    def _waiting(self) -> deque[tuple[dict, int, bool]]:
        if self._queue is None:
            self._queue = deque()
        return self._queue

    def _over_bounds(self) -> bool:
        return (
            len(self._queue or ()) > settings.CHAT_SEND_QUEUE_FRAMES
            or self._queued_bytes > settings.CHAT_SEND_QUEUE_BYTES
        )

    def _drop_ephemeral(self) -> None:
        waiting = self._waiting()
        kept = deque(entry for entry in waiting if not entry[2])
        if len(kept) < len(waiting):
            self._dropped_ephemeral = True
            self._queue = kept
            self._queued_bytes = sum(size for _, size, _ in kept)

    async def _drain(self) -> None:
        """Write the queue as the wire drains; cut the socket off when it stays full too long."""
        try:
            while self._queue:
                if not self._wire.writable():
                    try:
                        await asyncio.wait_for(self._wire.drained(), settings.CHAT_SLOW_SOCKET_TIMEOUT)
                    except TimeoutError:
                        return self._cut_off(f"it read nothing for {settings.CHAT_SLOW_SOCKET_TIMEOUT:g} s")
                    continue
                message, size, _ = self._queue[0]
                # Still queued while it is written: a write() meanwhile queues behind it.
                await self._send(message)
                self._queue.popleft()
                self._queued_bytes -= size
            self._queue = None
        except Exception:
            # The connection is gone: its disconnect() cleans up.
            logger.debug("writing a queued frame failed", exc_info=True)
            self._queue = None
        finally:
            self._drainer = None
        if self._dropped_ephemeral and not self._closing:
            # It caught up, but missed presence news: a resume gives it the current roster.
            self._cut_off("it missed presence changes while its queue was full")

    def _cut_off(self, why: str) -> None:
        if self.cut_off or self._closing:
            return
        self.cut_off = True
        logger.info("websocket cut off: %s", why)
        self._gathered = []
        self._queue = None
        self._queued_bytes = 0
        asyncio.get_running_loop().create_task(self._on_too_slow())
