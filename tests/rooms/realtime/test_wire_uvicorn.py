"""rooms.realtime.wire.uvicorn's protocol under a real uvicorn in this process: what an open socket keeps."""

from __future__ import annotations

import asyncio
import base64
import gc
import os
import socket
import uuid

import pytest
import uvicorn
from websockets.datastructures import Headers

from rooms.realtime.wire.uvicorn import WebSocketProtocol

pytestmark = pytest.mark.asyncio

TIMEOUT = 10


async def accept_and_hold(scope, receive, send) -> None:
    """An ASGI app that accepts every WebSocket and keeps it open until the client leaves."""
    assert scope["type"] == "websocket"
    await receive()  # websocket.connect
    await send({"type": "websocket.accept"})
    while (await receive())["type"] != "websocket.disconnect":
        pass


def headers_holding(value: str) -> list[Headers]:
    # type(), not isinstance(): asking a lazy object (a CSP nonce of an earlier test) its class evaluates it.
    return [
        obj
        for obj in gc.get_objects()
        if type(obj) is Headers and any(held == value for _, held in obj.raw_items())
    ]


async def test_an_open_socket_keeps_none_of_its_handshake_headers():
    """Once accepted, a socket holds none of the handshake's parsed headers: a few KB each, for its life."""
    listening = socket.create_server(("127.0.0.1", 0))
    port = listening.getsockname()[1]
    # log_config=None: uvicorn's own would take over the loggers for the rest of the session.
    config = uvicorn.Config(accept_and_hold, ws=WebSocketProtocol, lifespan="off", log_config=None)
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve(sockets=[listening]))
    probe = uuid.uuid4().hex
    writer = None
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            (
                f"GET /ws/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                f"X-Probe: {probe}\r\n\r\n"
            ).encode()
        )
        response = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), TIMEOUT)
        assert response.startswith(b"HTTP/1.1 101")

        assert headers_holding(probe) == []
    finally:
        if writer is not None:
            writer.close()
            await writer.wait_closed()
        server.should_exit = True
        await asyncio.wait_for(serving, TIMEOUT)
