"""Clients that never read: what they cost the server's memory and everyone else's round trip.

    .venv/bin/python -m bench.slow_readers [--server uvicorn|daphne] [--readers 20] [--seconds 20]

Starts Let's Talk as `make bench` does (bench/serve.sh, pinned to the last CPU),
then runs two attacks of the hardening issue, each beside one honest person
who measures their own round trip (send, until their message comes back):

- stalled: `--readers` sockets with a 4 KiB receive buffer join the room and
  never read, while a sender posts 2,000-character messages at 200 a second;
- resume loop: 4 sockets connect again and again resuming with `after=0`
  (every message the room holds, as old clients ask) and never read.

It prints the server's RSS before and at its peak, how many of the stalled
sockets the server cut off, and the honest person's round trips (p50/p99).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import socket
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

import jwt
import websockets

from bench import loadclient, local

ROOM = "general"
TEXT = "x" * 2000
SEND_RATE = 200
RESUME_LOOPERS = 4


def token(user_id: int) -> str:
    now = int(time.time())
    claims = {
        "sub": str(user_id),
        "name": f"bench {user_id}",
        "room": ROOM,
        "aud": "rooms.ws",
        "iss": local.ISSUER,
        "iat": now,
        "nbf": now,
        "exp": now + 300,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, local.SECRET, algorithm="HS256")


def never_reading(port: int, user_id: int, query: str = "") -> socket.socket:
    """A handshake by hand on a socket with a 4 KiB receive buffer; nothing is read after it."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    path = f"/ws/rooms/{ROOM}/?{urlencode({'token': token(user_id)})}{query}"
    sock.sendall(
        (
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
            f"Origin: http://127.0.0.1:{port}\r\n\r\n"
        ).encode()
    )
    return sock


def still_open(sock: socket.socket) -> bool:
    """False once the server dropped the connection (unread data left aside)."""
    sock.setblocking(False)
    try:
        while sock.recv(1 << 20):
            pass
    except BlockingIOError:
        return True
    except OSError:
        return False
    return False


async def honest(port: int, user_id: int, stop: asyncio.Event) -> list[float]:
    """One person's round trips in ms, one message every 200 ms, until `stop` (inf: no answer by then)."""
    url = f"ws://127.0.0.1:{port}/ws/rooms/{ROOM}/?{urlencode({'token': token(user_id)})}"
    trips: list[float] = []

    async def echo(client_id: str) -> None:
        while json.loads(await ws.recv()).get("client_id") != client_id:
            pass

    async with websockets.connect(url, origin=f"http://127.0.0.1:{port}", max_size=None) as ws:
        await ws.recv()  # welcome
        while not stop.is_set():
            client_id = uuid.uuid4().hex
            started = time.perf_counter()
            await ws.send(json.dumps({"type": "message", "text": "ping", "client_id": client_id}))
            answered = asyncio.ensure_future(echo(client_id))
            stopped = asyncio.ensure_future(stop.wait())
            await asyncio.wait({answered, stopped}, return_when=asyncio.FIRST_COMPLETED)
            stopped.cancel()
            if not answered.done():
                answered.cancel()
                trips.append(math.inf)
                break
            trips.append((time.perf_counter() - started) * 1000)
            await asyncio.sleep(0.2)
    return sorted(trips)


async def sender(port: int, user_id: int, stop: asyncio.Event) -> int:
    url = f"ws://127.0.0.1:{port}/ws/rooms/{ROOM}/?{urlencode({'token': token(user_id)})}"
    sent = 0
    async with websockets.connect(url, origin=f"http://127.0.0.1:{port}", max_size=None) as ws:

        async def drain() -> None:
            # An honest client reads what the room sends it, its own echoes included.
            async for _frame in ws:
                pass

        reading = asyncio.ensure_future(drain())
        while not stop.is_set():
            await ws.send(json.dumps({"type": "message", "text": TEXT, "client_id": uuid.uuid4().hex}))
            sent += 1
            await asyncio.sleep(1 / SEND_RATE)
        reading.cancel()
    return sent


async def sample_peak(pids: list[int], stop: asyncio.Event) -> float:
    peak = 0.0
    while not stop.is_set():
        sample = loadclient.proc_sample(loadclient.descendants(pids))
        peak = max(peak, sample["rss_mb"] if sample else 0.0)
        await asyncio.sleep(0.2)
    return peak


def percentiles(trips: list[float]) -> str:
    """p50 and p99 of sorted round trips; one still unanswered at the end counts as infinite."""
    return f"p50 {loadclient.percentile(trips, 50):.1f} ms, p99 {loadclient.percentile(trips, 99):.1f} ms"


async def stalled(port: int, pids: list[int], readers: int, seconds: float) -> str:
    stop = asyncio.Event()
    sockets = [never_reading(port, 100 + n) for n in range(readers)]
    await asyncio.sleep(1)
    before = loadclient.proc_sample(loadclient.descendants(pids))
    tasks = [honest(port, 1, stop), sender(port, 2, stop), sample_peak(pids, stop)]
    running = asyncio.gather(*tasks)
    await asyncio.sleep(seconds)
    stop.set()
    trips, sent, peak = await running
    open_left = sum(still_open(sock) for sock in sockets)
    for sock in sockets:
        sock.close()
    return (
        f"stalled: {readers} sockets that never read, {sent} messages of 2,000 characters "
        f"in {seconds:g} s; "
        f"server RSS {before['rss_mb']:.0f} -> peak {peak:.0f} MB; "
        f"{readers - open_left} of {readers} cut off; "
        f"an honest round trip {percentiles(trips)}"
    )


async def resume_loop(port: int, pids: list[int], seconds: float) -> str:
    stop = asyncio.Event()

    async def loop(user_id: int) -> int:
        count = 0
        while not stop.is_set():
            sock = never_reading(port, user_id, "&after=0")
            await asyncio.sleep(0.05)
            sock.close()
            count += 1
        return count

    before = loadclient.proc_sample(loadclient.descendants(pids))
    running = asyncio.gather(
        honest(port, 1, stop), sample_peak(pids, stop), *(loop(200 + n) for n in range(RESUME_LOOPERS))
    )
    await asyncio.sleep(seconds)
    stop.set()
    trips, peak, *connects = await running
    return (
        f"resume loop: {RESUME_LOOPERS} sockets resuming with after=0, never reading, "
        f"{sum(connects)} connects; "
        f"server RSS {before['rss_mb']:.0f} -> peak {peak:.0f} MB; an honest round trip {percentiles(trips)}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.slow_readers", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--server", choices=["uvicorn", "daphne"], default="uvicorn")
    parser.add_argument("--readers", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", local.DEFAULT_DB))
    args = parser.parse_args(argv)
    args.layer, args.procs, args.redis_url = "memory", 1, ""
    args.log_dir = Path("/tmp/letstalk-bench")  # noqa: S108
    args.log_dir.mkdir(parents=True, exist_ok=True)
    local.prepare(args.database_url)
    cpus = os.cpu_count() or 1
    port = local.free_port()
    server = local.start_server(args, port, str(cpus - 1) if cpus > 1 else None)
    try:
        pids = [server.pid]
        print(asyncio.run(stalled(port, pids, args.readers, args.seconds)), flush=True)
        print(asyncio.run(resume_loop(port, pids, args.seconds)), flush=True)
    finally:
        local.stop_server(server)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
