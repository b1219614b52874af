"""A WebSocket client of the room protocol, for tests against real servers.

It behaves like the room page: a fresh token for every connect, resume with
`after`, resend unacknowledged messages (same client_id) after a reconnect.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
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
        token = tickets.issue(user_id=self.user_id, name=self.name, room=self.room)
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

    async def close(self) -> None:
        self.reconnect = False
        if self._socket is not None:
            await self._socket.close()
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
