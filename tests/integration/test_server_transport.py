"""The WebSocket transport against real servers: pings, invalid UTF-8, frame size, the logs.

Each of these depends on the ASGI server itself (its framing, pings and
logs), so a WebsocketCommunicator cannot prove them. Each runs against
uvicorn as the Procfile runs it (production) and against daphne (`manage.py
runserver`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator, Iterator

import pytest
import websockets
from django.conf import settings

from rooms.realtime.consumer import MAX_STRIKES
from tests.integration.embedded import (
    TIMEOUT,
    Server,
    frame_opcodes,
    raw_handshake,
    read_until_closed,
    uvicorn_and_daphne,
    wait_for_log,
)
from tests.integration.room_client import RoomClient

pytestmark = pytest.mark.asyncio

PING_INTERVAL_S = "1"
PING_TIMEOUT_S = "1"
PING_OPTIONS = {
    "daphne": ["--ping-interval", PING_INTERVAL_S, "--ping-timeout", PING_TIMEOUT_S],
    "uvicorn": ["--ws-ping-interval", PING_INTERVAL_S, "--ws-ping-timeout", PING_TIMEOUT_S],
}
# daphne checks its sockets every 2 s: an unanswered ping is noticed within
# interval + timeout + two checks. The bound only stops a broken server from
# hanging the suite; how fast it closes is not asserted.
IDLE_CLOSE_BOUND_S = 30.0
HEADER_TIMEOUT_S = "1"
OPCODE_PING = 0x9


@pytest.fixture(scope="module")
def servers(tmp_path_factory) -> Iterator[dict[str, Server]]:
    """uvicorn with the Procfile's options and daphne with its access log, both with 1 s pings."""
    with uvicorn_and_daphne(tmp_path_factory, PING_OPTIONS, HTTP_HEADER_TIMEOUT=HEADER_TIMEOUT_S) as servers:
        yield servers


@pytest.fixture(params=["uvicorn", "daphne"])
def server(request, servers) -> Server:
    """Each server in turn."""
    return servers[request.param]


@pytest.fixture
def stored_before(server) -> int:
    """How many messages the server had stored when the test began."""
    return server.message_count()


async def next_frame(client: RoomClient, kind: str) -> dict:
    return await asyncio.wait_for(client.next_frame(kind), TIMEOUT)


async def test_idle_socket_that_never_answers_pings_is_dropped(server, stored_before):
    """A client that completes the handshake and then never answers a ping is disconnected by the server."""
    answering = server.client("bob")
    await answering.connect()  # websockets answers pings by itself
    try:
        sock = raw_handshake(server, f"/ws/rooms/general/?token={server.token('alice')}")
        try:
            received, dropped = await asyncio.to_thread(read_until_closed, sock, IDLE_CLOSE_BOUND_S)
        finally:
            sock.close()
        assert dropped, f"the server kept a socket that never answered pings open: {received!r}"
        assert OPCODE_PING in frame_opcodes(received), "the server never pinged"

        # The client that answers its pings was pinged just as long and is still served.
        await answering.say("still here")
        assert (await next_frame(answering, "message"))["text"] == "still here"
    finally:
        await answering.close()
    assert server.message_count() == stored_before + 1


@contextlib.asynccontextmanager
async def alice_beside_bob(server: Server) -> AsyncIterator[tuple[RoomClient, websockets.ClientConnection]]:
    """Bob in the room, and a raw socket of Alice's that joined (welcomed, Bob told); both closed after."""
    listener = server.client("bob")
    await listener.connect()
    sender = None
    try:
        url = f"{server.process.url.replace('http', 'ws')}/ws/rooms/general/?token={server.token('alice')}"
        sender = await websockets.connect(url, origin=server.process.url, open_timeout=TIMEOUT)
        assert json.loads(await asyncio.wait_for(sender.recv(), TIMEOUT))["type"] == "welcome"
        await next_frame(listener, "user_joined")
        yield listener, sender
    finally:
        if sender is not None:
            await sender.close()
        await listener.close()


async def test_invalid_utf8_text_frame_fails_the_connection(server, stored_before):
    """A text frame that is not UTF-8 fails the connection (RFC 6455 §8.1); nothing is stored or broadcast."""
    async with alice_beside_bob(server) as (listener, sender):
        await sender.send(b'{"type": "message", "text": "\xff\xfe"}', text=True)
        with pytest.raises(websockets.ConnectionClosedError) as closed:
            await asyncio.wait_for(sender.recv(), TIMEOUT)
        # autobahn fails connections by dropping TCP (failByDrop): the client sees 1006.
        # A close frame, if a server sends one, must say 1007.
        assert closed.value.rcvd is None or closed.value.rcvd.code == 1007

        await next_frame(listener, "user_left")
        await listener.say("after the garbage")
        assert (await next_frame(listener, "message"))["text"] == "after the garbage"
    assert server.message_count() == stored_before + 1


async def test_frame_over_the_limit_is_closed_with_4009_by_a_real_server(server, stored_before):
    """Through a real server, a frame over CHAT_MAX_FRAME_BYTES closes with 4009 (daphne refuses 1009)."""
    url = f"{server.process.url.replace('http', 'ws')}/ws/rooms/general/?token={server.token('alice')}"
    async with websockets.connect(url, origin=server.process.url, open_timeout=TIMEOUT) as sender:
        await asyncio.wait_for(sender.recv(), TIMEOUT)  # welcome
        text = "x" * (settings.CHAT_MAX_FRAME_BYTES + 1)
        await sender.send(json.dumps({"type": "message", "text": text}))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(sender.recv(), TIMEOUT)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4009
    assert server.message_count() == stored_before


async def handshakes_with_tokens(server: Server) -> list[str]:
    """One accepted and two refused handshakes; the tokens they carried."""
    accepted, other_room = server.token("alice"), server.token("alice", "sports")
    foreign = server.token("bob")
    ws_url = server.process.url.replace("http", "ws")
    async with websockets.connect(
        f"{ws_url}/ws/rooms/general/?token={accepted}", origin=server.process.url, open_timeout=TIMEOUT
    ) as connection:
        await asyncio.wait_for(connection.recv(), TIMEOUT)
    refusals = [
        (f"{ws_url}/ws/rooms/general/?token={other_room}", server.process.url),
        (f"{ws_url}/ws/rooms/general/?token={foreign}", "http://evil.example"),
    ]
    for url, origin in refusals:
        with pytest.raises(websockets.InvalidStatus):
            await websockets.connect(url, origin=origin, open_timeout=TIMEOUT)
    return [accepted, other_room, foreign]


def assert_no_token_in(log: str, tokens_sent: list[str]) -> None:
    for token in tokens_sent:
        assert token not in log
        assert token.rsplit(".", 1)[-1] not in log  # not even the signature


async def test_daphne_access_log_has_the_path_but_never_the_token(servers):
    """daphne's access log names the socket's path, never the ?token= of an accepted or refused handshake."""
    daphne = servers["daphne"]
    tokens_sent = await handshakes_with_tokens(daphne)

    log = await asyncio.to_thread(wait_for_log, daphne.process, "WSREJECT /ws/rooms/general/", count=2)
    assert "WSCONNECT /ws/rooms/general/" in log
    assert "WSDISCONNECT /ws/rooms/general/" in log
    assert_no_token_in(log, tokens_sent)


async def test_production_uvicorn_logs_no_token(servers):
    """uvicorn as the Procfile runs it logs no ?token= (at INFO it would log each accepted socket's URL)."""
    uvicorn = servers["uvicorn"]
    tokens_sent = await handshakes_with_tokens(uvicorn)
    # One more socket after those: what they logged is written by the time it is welcomed.
    url = f"{uvicorn.process.url.replace('http', 'ws')}/ws/rooms/general/?token={uvicorn.token('bob')}"
    async with websockets.connect(url, origin=uvicorn.process.url, open_timeout=TIMEOUT) as connection:
        await asyncio.wait_for(connection.recv(), TIMEOUT)

    assert_no_token_in(uvicorn.process.log(), tokens_sent)


async def read_until_closed_by_server(connection) -> None:
    """Read (the error frames) until the connection closes, which raises ConnectionClosed."""
    while True:
        await connection.recv()


async def test_garbage_after_the_policy_close_leaves_no_ghost(server, stored_before):
    """Frames still arriving after a 4008 close are dropped; the sender leaves presence for everyone."""
    async with alice_beside_bob(server) as (listener, sender):
        # One burst: the frames past the tenth strike are already on their way when the server closes.
        for _ in range(MAX_STRIKES + 10):
            await sender.send("not json")
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(read_until_closed_by_server(sender), TIMEOUT)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 4008

        assert (await next_frame(listener, "user_left"))["user"]["id"] == server.users["alice"]
    assert server.message_count() == stored_before


@pytest.mark.parametrize(
    "sent",
    [b"", b"GET /heal", b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"],
    ids=["nothing", "half a request line", "headers that never end"],
)
async def test_uvicorn_closes_a_connection_whose_request_headers_never_arrive(servers, sent):
    """uvicorn as the Procfile runs it drops a connection with no complete headers in HTTP_HEADER_TIMEOUT."""
    uvicorn = servers["uvicorn"]
    sock = socket.create_connection(("127.0.0.1", uvicorn.process.port), timeout=TIMEOUT)
    try:
        sock.sendall(sent)
        received, dropped = await asyncio.to_thread(read_until_closed, sock, IDLE_CLOSE_BOUND_S)
    finally:
        sock.close()
    assert dropped, "uvicorn kept a connection that never completed its request headers"
    assert received == b""


async def test_uvicorn_answers_a_request_sent_in_pieces_within_the_header_timeout(servers):
    """The deadline is for the whole headers, not each read: a request in pieces is answered."""
    uvicorn = servers["uvicorn"]
    sock = socket.create_connection(("127.0.0.1", uvicorn.process.port), timeout=TIMEOUT)
    try:
        for piece in (b"GET /healthz HT", b"TP/1.1\r\nHost: 127.0.0.1\r\n", b"Connection: close\r\n\r\n"):
            sock.sendall(piece)
            await asyncio.sleep(0.1)
        received, _dropped = await asyncio.to_thread(read_until_closed, sock, TIMEOUT)
    finally:
        sock.close()
    assert received.startswith(b"HTTP/1.1 200")
