"""WebSocket clients of the room protocol, for tests against real servers.

RoomClient talks as the protocol's older clients do: a fresh token for
every connect, resume with `after`, resend unacknowledged messages (same
client_id) after a reconnect. RoomReader reads a room through the event log
(README "Delivery"): resume with `since` and `epoch`, apply room events in
seq order, each once.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection

from rooms.realtime.handshake import tickets


@dataclass
class RoomClient:
    """One person's socket to one server."""

    base_url: str  # http://127.0.0.1:PORT
    user_id: int
    name: str
    room: str = "general"
    # The site session its tickets are bound to (accounts.sessions); "" for none.
    session: str = ""
    reconnect: bool = False
    frames: asyncio.Queue = field(default_factory=asyncio.Queue)
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)
    pending: dict[str, str] = field(default_factory=dict)
    closes: list[int] = field(default_factory=list)
    welcome: dict[str, Any] | None = None
    _socket: ClientConnection | None = None
    _reader: asyncio.Task | None = None

    @property
    def last_id(self) -> int:
        return max(self.messages, default=0)

    async def connect(self) -> dict[str, Any]:
        """Open the socket (resuming after the last message seen) and return the welcome frame."""
        token = tickets.issue(user_id=self.user_id, name=self.name, room=self.room, session=self.session)
        ws_base = self.base_url.replace("http://", "ws://")
        url = f"{ws_base}/ws/rooms/{self.room}/?token={token}"
        if self.messages:
            url += f"&after={self.last_id}"
        self._socket = await websockets.connect(url, origin=self.base_url, open_timeout=5)
        self.welcome = json.loads(await asyncio.wait_for(self._socket.recv(), 5))
        for message in self.welcome["history"]:
            self.messages[message["id"]] = message
        for client_id, text in list(self.pending.items()):
            await self._socket.send(json.dumps({"type": "message", "text": text, "client_id": client_id}))
        self._reader = asyncio.create_task(self._read(self._socket))
        return self.welcome

    async def _read(self, socket: ClientConnection) -> None:
        try:
            async for raw in socket:
                frame = json.loads(raw)
                if frame["type"] == "message":
                    self.messages[frame["id"]] = frame
                    self.pending.pop(frame.get("client_id") or "", None)
                await self.frames.put(frame)
        except websockets.ConnectionClosed:
            pass
        self.closes.append(socket.close_code)
        if self.reconnect:
            await self._reconnect()

    async def _reconnect(self) -> None:
        delay = 0.2
        while True:
            try:
                await self.connect()
                return
            except (OSError, websockets.InvalidStatus, websockets.ConnectionClosed, TimeoutError):
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2)

    async def say(self, text: str) -> str:
        """Send a message; it stays pending until the server echoes it back."""
        client_id = uuid.uuid4().hex
        self.pending[client_id] = text
        with contextlib.suppress(websockets.ConnectionClosed):
            await self._socket.send(json.dumps({"type": "message", "text": text, "client_id": client_id}))
        return client_id

    async def next_frame(self, kind: str) -> dict[str, Any]:
        """The next frame of this type, skipping others (callers bound the wait)."""
        while True:
            frame = await self.frames.get()
            if frame["type"] == kind:
                return frame

    async def closed_by_server(self) -> int | None:
        """Wait until the server closes the socket (callers bound the wait); its close code."""
        if self._reader is not None:
            await asyncio.shield(self._reader)
        return self.closes[-1] if self.closes else None

    async def close(self) -> None:
        self.reconnect = False
        if self._socket is not None:
            await self._socket.close()
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader


Frame = dict[str, Any]
ROOM_EVENTS = ("message", "message_deleted")


@dataclass
class RoomView:
    """A room as a client shows it, built from the room's event log in seq order.

    Room events carry the room's seq (1, 2, 3, ...), but a frame can arrive out
    of seq order (each process broadcasts after its own commit), twice (live
    and again in a resume's replay) or never (the channel layer delivers at
    most once). So a frame at or below `last_seq` is a duplicate, the next one
    is applied, and one further ahead is held until the gap before it fills.
    """

    last_seq: int = 0
    epoch: str = ""
    # The room is known to stand at least here: a held frame, a position frame.
    known_seq: int = 0
    messages: dict[int, Frame] = field(default_factory=dict)
    held: dict[int, Frame] = field(default_factory=dict)
    # Every seq applied, in the order applied: each once and ascending, or the view is wrong.
    applied: list[int] = field(default_factory=list)
    duplicates: int = 0
    out_of_order: int = 0

    @property
    def behind(self) -> bool:
        """True while this view misses an event the room is known to have."""
        return self.last_seq < self.known_seq

    def resume_query(self) -> str:
        """What a (re)connect adds to the socket's URL: nothing the first time."""
        return f"&since={self.last_seq}&epoch={self.epoch}" if self.epoch else ""

    def welcome(self, frame: Frame) -> None:
        """Replay a recovered welcome's events, or start over from its history."""
        # Whatever was held comes again in the replay, in its latest state.
        self.held.clear()
        if frame.get("recovered"):
            # The server promises every event after our seq, in seq order; they
            # skip the seqs of messages since changed (a message created and
            # deleted meanwhile comes as its deletion only), so no check for gaps.
            for event in frame["events"]:
                self._apply(event)
            self.last_seq = max(self.last_seq, frame["seq"])
        else:
            # The first connect, another epoch, or too far behind: replace the view.
            self.messages = {message["id"]: message for message in frame["history"]}
            self.last_seq = self.known_seq = frame["seq"]
        self.epoch = frame["epoch"]
        self.known_seq = max(self.known_seq, self.last_seq)

    def receive(self, frame: Frame) -> None:
        """Take a live room event: drop it, apply it (and the held ones it unblocks), or hold it."""
        seq = frame["seq"]
        if seq <= self.last_seq or seq in self.held:
            self.duplicates += 1
        elif seq > self.last_seq + 1:
            self.out_of_order += 1
            self.held[seq] = frame
            self.known_seq = max(self.known_seq, seq)
        else:
            self._apply(frame)
            while self.last_seq + 1 in self.held:
                self._apply(self.held.pop(self.last_seq + 1))

    def position(self, frame: Frame) -> None:
        """Note where the room stands: a seq beyond ours means an event is late or lost."""
        if frame["epoch"] == self.epoch:
            self.known_seq = max(self.known_seq, frame["seq"])

    def _apply(self, event: Frame) -> None:
        self.applied.append(event["seq"])
        if event["type"] == "message":
            self.messages[event["id"]] = event
        else:
            self.messages.pop(event["id"], None)
        self.last_seq = max(self.last_seq, event["seq"])


@dataclass
class RoomReader:
    """One person reading a room through sockets that come and go, as the room page does.

    Each socket resumes from the view's seq; a gap in the seqs (or a position
    ahead of the view) that is not filled within `gap_wait` seconds makes it
    resume again, as the late frame may have been lost. It only reads.
    """

    user_id: int
    name: str
    room: str = "general"
    gap_wait: float = 0.5
    view: RoomView = field(default_factory=RoomView)
    # The seq to catch up with; None: keep reading.
    target: int | None = None
    connects: int = 0
    gap_resumes: int = 0
    # Close codes of sockets the server closed (not the reader).
    closes: list[int | None] = field(default_factory=list)
    last_welcome: Frame | None = None
    welcomed: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def caught_up(self) -> bool:
        return self.target is not None and self.view.last_seq >= self.target and not self.view.behind

    async def read_until(self, base_url: str, seq: int) -> None:
        """Read on one server until the view stands at `seq` (resuming there after any gap)."""
        self.target = seq
        while not self.caught_up:
            await self.visit(base_url)

    async def keep_reconnecting(self, base_urls: Sequence[str], lifetime: tuple[float, float]) -> None:
        """Connect to each server in turn, leaving after a random `lifetime`, until caught up."""
        for base_url in itertools.cycle(base_urls):
            if self.caught_up:
                return
            await self.visit(base_url, leave_after=random.uniform(*lifetime))  # noqa: S311

    async def visit(self, base_url: str, leave_after: float | None = None) -> None:
        """One socket: resume, then read until caught up, `leave_after` seconds or a gap that stays open."""
        token = tickets.issue(user_id=self.user_id, name=self.name, room=self.room)
        ws_base = base_url.replace("http://", "ws://")
        url = f"{ws_base}/ws/rooms/{self.room}/?token={token}{self.view.resume_query()}"
        # A resume can replay a few thousand events: past websockets' 1 MiB default.
        socket = await websockets.connect(
            url, origin=base_url, open_timeout=5, close_timeout=2, max_size=None
        )
        self.connects += 1
        try:
            self.last_welcome = json.loads(await asyncio.wait_for(socket.recv(), 5))
            self.view.welcome(self.last_welcome)
            self.welcomed.set()
            loop = asyncio.get_running_loop()
            await self._read(socket, leave_at=math.inf if leave_after is None else loop.time() + leave_after)
        except websockets.ConnectionClosed as closed:
            self.closes.append(closed.rcvd.code if closed.rcvd else None)
        finally:
            await socket.close()

    async def _read(self, socket: ClientConnection, leave_at: float) -> None:
        loop = asyncio.get_running_loop()
        gap: tuple[int, float] | None = None  # the seq awaited, and until when
        while not self.caught_up:
            now = loop.time()
            if gap is not None and self.view.last_seq >= gap[0]:
                gap = None
            if gap is None and self.view.behind:
                gap = (self.view.last_seq + 1, now + self.gap_wait)
            if gap is not None and now >= gap[1]:
                self.gap_resumes += 1
                return
            if now >= leave_at:
                return
            # Wake at the next deadline; at least once a second to look again.
            wait = min(leave_at, gap[1] if gap else math.inf, now + 1) - now
            try:
                frame = json.loads(await asyncio.wait_for(socket.recv(), wait))
            except TimeoutError:
                continue
            if frame["type"] in ROOM_EVENTS:
                self.view.receive(frame)
            elif frame["type"] == "position":
                self.view.position(frame)
