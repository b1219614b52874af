"""The embedded default (SQLite, in-memory layer) under a real uvicorn or daphne, and raw sockets to it.

For what only a real ASGI server shows: its framing, pings, flow control and logs.
"""

from __future__ import annotations

import base64
import contextlib
import os
import socket
import sqlite3
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from django.conf import settings

from rooms.realtime.handshake import tickets
from tests.integration.room_client import RoomClient
from tests.servers import AsgiServer, manage, server_env, start_server

TIMEOUT = 5
USERS = ("alice", "bob", "carol")
CREATE_USERS = (
    "from accounts.models import User\n"
    f"for name in {USERS!r}:\n"
    "    user, _ = User.objects.get_or_create(username=name, defaults={'display_name': name.title()})\n"
    "    print(name, user.pk)\n"
)


class Server:
    """A server on its own SQLite database, and the ids of alice, bob and carol."""

    def __init__(self, process: AsgiServer, database: Path, users: dict[str, int]) -> None:
        self.process = process
        self.database = database
        self.users = users

    def client(self, name: str) -> RoomClient:
        return RoomClient(base_url=self.process.url, user_id=self.users[name], name=name.title())

    def token(self, name: str, room: str = "general") -> str:
        return tickets.issue(user_id=self.users[name], name=name.title(), room=room)

    def message_count(self) -> int:
        with sqlite3.connect(self.database) as connection:
            return connection.execute("SELECT COUNT(*) FROM rooms_message").fetchone()[0]


def start_embedded(
    tmp_path_factory, kind: str, extra_args: Sequence[str] = (), **variables: str
) -> tuple[AsgiServer, Server]:
    """The embedded default under `kind` ("uvicorn" as the Procfile runs it, or "daphne"), its log on stdout.

    `variables` are settings for the server process (e.g. CHAT_RATE_LIMIT="100").
    """
    workdir = tmp_path_factory.mktemp(f"{kind}_embedded")
    database = workdir / "db.sqlite3"
    env = server_env(
        DJANGO_DEBUG="1",
        DATABASE_URL=f"sqlite:///{database}",
        REDIS_URL="",
        CHAT_JWT_SECRET=settings.CHAT_JWT_SECRET,
        CHAT_JWT_ISSUER=settings.CHAT_JWT_ISSUER,
        # The server logs to stdout: unbuffered, so the test reads what was written.
        PYTHONUNBUFFERED="1",
        **variables,
    )
    manage(env, "migrate", "--no-input")
    printed = manage(env, "shell", "-v", "0", "-c", CREATE_USERS)
    users = {name: int(pk) for name, pk in (line.split() for line in printed.splitlines() if line)}
    process = start_server(env, workdir, kind, extra_args=extra_args, server=kind)
    return process, Server(process, database, users)


@contextlib.contextmanager
def uvicorn_and_daphne(
    tmp_path_factory, options: Mapping[str, Sequence[str]] | None = None, **variables: str
) -> Iterator[dict[str, Server]]:
    """Both servers, each on its own database: `options` per kind, `variables` for both; stopped after."""
    started: dict[str, tuple[AsgiServer, Server]] = {}
    try:
        for kind in ("uvicorn", "daphne"):
            started[kind] = start_embedded(tmp_path_factory, kind, (options or {}).get(kind, ()), **variables)
        yield {kind: server for kind, (_process, server) in started.items()}
    finally:
        for process, _server in started.values():
            process.stop()


def raw_handshake(server: Server, path: str, receive_buffer: int | None = None) -> socket.socket:
    """Open a TCP connection and complete a WebSocket handshake by hand; nothing more.

    `receive_buffer`: SO_RCVBUF in bytes, set before connecting (so the window stays small).
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if receive_buffer is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.settimeout(TIMEOUT)
    sock.connect(("127.0.0.1", server.process.port))
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET {path} HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{server.process.port}\r\n"
        "Upgrade: websocket\r\n"
        "Connection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\n"
        "Sec-WebSocket-Version: 13\r\n"
        f"Origin: {server.process.url}\r\n"
        "\r\n"
    )
    sock.sendall(request.encode())
    response = b""
    while b"\r\n\r\n" not in response:
        chunk = sock.recv(1)  # byte by byte: nothing after the response is read
        assert chunk, f"the server hung up during the handshake: {response!r}"
        response += chunk
    assert response.startswith(b"HTTP/1.1 101"), response
    return sock


def read_until_closed(sock: socket.socket, bound: float) -> tuple[bytes, bool]:
    """Read (never write: no pong) until the server drops the connection; (bytes read, dropped)."""
    deadline = time.monotonic() + bound
    received = b""
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            break
        except ConnectionResetError:
            return received, True
        if not chunk:
            return received, True
        received += chunk
    return received, False


def server_frames(data: bytes) -> list[tuple[int, bytes]]:
    """The (opcode, payload) of each whole unmasked, server-to-client frame in `data`."""
    frames, offset = [], 0
    while offset + 2 <= len(data):
        opcode = data[offset] & 0x0F
        length, offset = data[offset + 1] & 0x7F, offset + 2
        if length == 126:
            length, offset = int.from_bytes(data[offset : offset + 2], "big"), offset + 2
        elif length == 127:
            length, offset = int.from_bytes(data[offset : offset + 8], "big"), offset + 8
        if offset + length > len(data):
            break
        frames.append((opcode, data[offset : offset + length]))
        offset += length
    return frames


def frame_opcodes(data: bytes) -> list[int]:
    """The opcodes of the (unmasked, server-to-client) frames in `data`."""
    return [opcode for opcode, _ in server_frames(data)]


def wait_for_log(process: AsgiServer, line: str, count: int = 1, bound: float = 10.0) -> str:
    """The server's log once `line` appears `count` times in it (or the bound passes)."""
    deadline = time.monotonic() + bound
    while (log := process.log()).count(line) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return log
