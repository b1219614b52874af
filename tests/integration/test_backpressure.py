"""Backpressure through real servers: a client that stops reading holds up no one and pins no memory.

Each runs against uvicorn as the Procfile runs it and against daphne: how a
server buffers for a client that does not read is the server's own, so a
WebsocketCommunicator cannot show it. The attacker is a raw TCP socket with
a tiny receive buffer that never reads after the handshake. Pings stay at
the servers' defaults (20 s and more), so what cuts it off here is ours.
"""

from __future__ import annotations

import asyncio
import json
import os
import select
import socket
from collections.abc import Iterator

import pytest
import websockets

from rooms.realtime.protocol.codes import CloseCode
from tests.integration.embedded import (
    TIMEOUT,
    Server,
    raw_handshake,
    read_until_closed,
    server_frames,
    uvicorn_and_daphne,
    wait_for_log,
)
from tests.integration.room_client import RoomClient

pytestmark = pytest.mark.asyncio

SLOW_SOCKET_TIMEOUT_S = 2.0
# Long messages, enough to fill what the kernel alone buffers for a client
# that never reads (Linux grows a socket's send buffer to 4 MB unless
# CHAT_SOCKET_SEND_BUFFER caps it) and the server's own buffer (64 KiB).
MESSAGES = 320
TEXT = "x" * 14990
# Bounds only so that a broken server fails instead of hanging the suite.
CUT_OFF_BOUND_S = 4 * SLOW_SOCKET_TIMEOUT_S + TIMEOUT
# A server that keeps reading pings from a client that reads no pong would take all of these.
PING_FLOOD_CAP_BYTES = 64 * 1024 * 1024
STALLED_S = 2.0
TINY_RECEIVE_BUFFER = 4096
OPCODE_CLOSE = 0x8
TOO_SLOW_LINE = "websocket closed: too slow"


@pytest.fixture(scope="module")
def servers(tmp_path_factory) -> Iterator[dict[str, Server]]:
    """uvicorn as the Procfile runs it and daphne, cutting off slow sockets after 2 s."""
    with uvicorn_and_daphne(
        tmp_path_factory,
        CHAT_SLOW_SOCKET_TIMEOUT=str(SLOW_SOCKET_TIMEOUT_S),
        CHAT_MAX_MESSAGE_LENGTH="15000",
        CHAT_MAX_FRAME_BYTES="65536",
        # Bob's burst below is not what is tested.
        CHAT_RATE_LIMIT="100000",
    ) as servers:
        yield servers


@pytest.fixture(params=["uvicorn", "daphne"])
def server(request, servers) -> Server:
    """Each server in turn."""
    return servers[request.param]


def never_reading(server: Server, name: str) -> socket.socket:
    """A socket of `name`'s in the general room that reads nothing after the handshake."""
    path = f"/ws/rooms/general/?token={server.token(name)}"
    return raw_handshake(server, path, receive_buffer=TINY_RECEIVE_BUFFER)


async def next_frame(client: RoomClient, kind: str, bound: float = TIMEOUT) -> dict:
    return await asyncio.wait_for(client.next_frame(kind), bound)


async def test_a_client_that_stops_reading_delays_no_one_and_is_cut_off(server):
    """Each message reaches Carol within the slow-socket deadline while Alice reads none; she is cut off."""
    carol, bob = server.client("carol"), server.client("bob")
    await bob.connect()
    await carol.connect()
    attacker = never_reading(server, "alice")
    try:
        assert (await next_frame(carol, "user_joined"))["user"]["name"] == "Alice"
        for n in range(MESSAGES):
            await bob.say(f"{n} {TEXT}")
            # Before backpressure, the room's fan-out waited on Alice's full
            # buffer: Carol got nothing more once it filled.
            frame = await next_frame(carol, "message", bound=SLOW_SOCKET_TIMEOUT_S)
            assert frame["text"].startswith(f"{n} ")

        # Alice's socket is dropped, and she no longer shows as present.
        left = await next_frame(carol, "user_left", bound=CUT_OFF_BOUND_S)
        assert left["user"]["name"] == "Alice"
        _, dropped = await asyncio.to_thread(read_until_closed, attacker, CUT_OFF_BOUND_S)
        assert dropped, "the server kept the socket of a client that reads nothing"
    finally:
        attacker.close()
        await bob.close()
        await carol.close()
    assert TOO_SLOW_LINE in server.process.log()


async def test_a_slow_reader_is_told_4013_and_resumes_without_loss(server):
    """A client that fell behind reads a 4013 close once it reads again; a resume from its seq replays all."""
    carol, bob = server.client("carol"), server.client("bob")
    await bob.connect()
    await carol.connect()
    slow = never_reading(server, "alice")
    log_lines_before = server.process.log().count(TOO_SLOW_LINE)
    try:
        await next_frame(carol, "user_joined")
        sent = []
        for n in range(MESSAGES):
            sent.append(f"{n} {TEXT}")
            await bob.say(sent[-1])
            await next_frame(carol, "message", bound=SLOW_SOCKET_TIMEOUT_S)
        await asyncio.to_thread(wait_for_log, server.process, TOO_SLOW_LINE, log_lines_before + 1)
        # It reads again now, within the grace the close frame gets.
        received, dropped = await asyncio.to_thread(read_until_closed, slow, CUT_OFF_BOUND_S)
    finally:
        slow.close()
        await bob.close()
        await carol.close()
    assert dropped
    frames = server_frames(received)
    welcome = json.loads(frames[0][1])
    assert welcome["type"] == "welcome"
    assert frames[-1][0] == OPCODE_CLOSE
    assert int.from_bytes(frames[-1][1][:2], "big") == CloseCode.TOO_SLOW

    # What the room page does on 4013: connect again from the seq it had,
    # a page of events at a time (has_more: again from the seq it stands at).
    replayed: list[str] = []
    since, epoch = welcome["seq"], welcome["epoch"]
    while True:
        again = await resume(server, "alice", since=since, epoch=epoch)
        assert again["recovered"] is True
        replayed += [event["text"] for event in again["events"]]
        since = again["seq"]
        if not again["has_more"]:
            break
    assert replayed == sent


async def resume(server: Server, name: str, *, since: int, epoch: str) -> dict:
    """The welcome of a socket of `name`'s resuming from `since`."""
    url = f"{server.process.url.replace('http', 'ws')}/ws/rooms/general/?token={server.token(name)}"
    url += f"&since={since}&epoch={epoch}"
    # A page of long messages is more than the 1 MiB websockets takes by default.
    async with websockets.connect(
        url, origin=server.process.url, open_timeout=TIMEOUT, max_size=None
    ) as socket_:
        return json.loads(await asyncio.wait_for(socket_.recv(), TIMEOUT))


def flood_pings(sock: socket.socket, cap: int) -> int:
    """Send pings, reading nothing, until the server stops taking them (or `cap` bytes went); bytes sent."""
    payload = os.urandom(125)
    mask = os.urandom(4)
    masked = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))
    ping = bytes([0x89, 0x80 | len(payload)]) + mask + masked
    burst = ping * 512
    sock.setblocking(False)
    sent, pending = 0, memoryview(burst)
    while sent < cap:
        try:
            count = sock.send(pending)
        except BlockingIOError:
            _, writable, _ = select.select([], [sock], [], STALLED_S)
            if not writable:
                return sent  # the server has stopped reading from us
            continue
        except (BrokenPipeError, ConnectionResetError):
            return sent
        sent += count
        # A send may stop mid-frame: the rest goes first, or the frames break.
        pending = pending[count:] or memoryview(burst)
    return sent


async def test_a_ping_flood_from_a_client_that_never_reads_is_not_answered_without_limit(server):
    """The server stops reading pings from a client that reads none of its pongs; others are still served."""
    bob = server.client("bob")
    await bob.connect()
    attacker = never_reading(server, "alice")
    try:
        sent = await asyncio.to_thread(flood_pings, attacker, PING_FLOOD_CAP_BYTES)
        # What the server took is what the kernels buffer (about 4 MB here) and
        # one read's worth of pongs, not the flood: before, every ping queued a
        # pong that never left (109 -> 272 MB in 6 s), and all 64 MB went in.
        assert sent < PING_FLOOD_CAP_BYTES // 4, f"the server read {sent} bytes of pings it could not answer"

        await bob.say("still served")
        assert (await next_frame(bob, "message", bound=SLOW_SOCKET_TIMEOUT_S))["text"] == "still served"
    finally:
        attacker.close()
        await bob.close()
