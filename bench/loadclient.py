"""Load client for a Let's Talk deployment (README "WebSocket protocol"), yours or a local one.

    .venv/bin/python -m bench.loadclient --url ws://127.0.0.1:8000 --jwt-secret "$CHAT_JWT_SECRET" \\
        --iss lets-talk --preset A [--server-pid PID] [--workers 2] [--json out.json]

C clients connect to one room (or spread over --rooms), the first S of them send
(open loop at --rate per sender, or --saturate with --window in flight), and every
delivered message is timed end to end: its text carries the sender, a sequence number
and the send time (CLOCK_MONOTONIC, the same clock in every worker process of one
machine). It reports deliveries/s, latency percentiles, lost, duplicate and
out-of-order deliveries (by the room's event `seq` when the server sends one: see
SeqLog and tally), presence frames and, given --server-pid of a local server, that
server's CPU per delivery and peak RSS from /proc/<pid>/stat and /proc/<pid>/status
(its child processes included).

Tokens are minted here (HS256, aud "rooms.ws") with the deployment's CHAT_JWT_SECRET
and CHAT_JWT_ISSUER, for users --user-ids (which must exist and be active: see
bench/prepare_db.py). Point it only at a deployment you run: it creates messages.

Presets (what /tmp/bench/load/compare.sh calls scenarios):
  A  chatty room: 200 clients, 20 senders x 5 msg/s, 20 s
  B  saturation: 100 clients, 10 senders, window 5, 15 s
  C  connect storm: 1,000 clients connect and authenticate, no messages
A Python client costs more CPU per frame than the Node generator: in B it, not the
server, may be the limit. Use --workers (one process each) and --parse fast there,
and compare servers with the same client.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import re
import sys
import time
import uuid
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import jwt
import websockets

PRESETS: dict[str, dict[str, Any]] = {
    "A": {"clients": 200, "senders": 20, "rate": 5.0, "duration": 20.0, "saturate": False},
    "B": {"clients": 100, "senders": 10, "saturate": True, "window": 5, "duration": 15.0},
    "C": {"clients": 1000, "senders": 0, "duration": 0.0},
}
DEFAULTS: dict[str, Any] = {
    "clients": 10,
    "senders": 1,
    "rate": 1.0,
    "duration": 10.0,
    "saturate": False,
    "window": 1,
}
CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
# --parse fast reads a frame's seq without json.loads: after the last `"seq":` of the frame
# (inside a JSON string a quote is escaped, so no text can fake the key), up to the frame's
# closing brace when the server puts it last, as ours does; else the digits that follow.
SEQ_KEY = '"seq":'
SEQ_KEY_LEN = len(SEQ_KEY)
SEQ_DIGITS = re.compile(r"\s*\d+")


def seq_after(raw: str, at: int) -> int | None:
    """The digits at `at` of an encoded frame (its seq's value when it is not last)."""
    digits = SEQ_DIGITS.match(raw, at)
    return int(digits.group()) if digits else None


# --------------------------------------------------------------------------- options


def parse_ids(spec: str) -> list[int]:
    """'1-200' or '3,5,9-12' -> ids."""
    ids: list[int] = []
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        low, sep, high = part.partition("-")
        ids.extend(range(int(low), int(high) + 1) if sep else [int(low)])
    if not ids:
        raise argparse.ArgumentTypeError("--user-ids is empty")
    return ids


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.loadclient",
        description=__doc__.split("\n\n")[2],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--url", default="ws://127.0.0.1:8000", help="ws(s)://host:port of the site")
    parser.add_argument("--preset", choices=sorted(PRESETS), help="scenario A, B or C (options override)")
    parser.add_argument("--clients", type=int, help="connections [10]")
    parser.add_argument("--senders", type=int, help="the first S clients also send [1]")
    parser.add_argument("--rate", type=float, help="messages/s per sender, open loop [1]")
    parser.add_argument("--saturate", action="store_true", default=None, help="closed loop")
    parser.add_argument("--window", type=int, help="messages in flight per sender with --saturate [1]")
    parser.add_argument("--duration", type=float, help="seconds of sending [10]")
    parser.add_argument("--rooms", default="general", help="room slugs, a,b: client i joins room i %% n")
    parser.add_argument("--user-ids", type=parse_ids, default=None, help="token subs, e.g. 1-1000 [1..C]")
    parser.add_argument(
        "--jwt-secret", default=os.environ.get("CHAT_JWT_SECRET", ""), help="[$CHAT_JWT_SECRET]"
    )
    parser.add_argument(
        "--iss", default=os.environ.get("CHAT_JWT_ISSUER", "lets-talk"), help="[$CHAT_JWT_ISSUER]"
    )
    parser.add_argument("--origin", help="Origin header [http(s)://<host:port of --url>]")
    parser.add_argument("--text-size", type=int, default=64, help="message text length [64]")
    parser.add_argument("--settle", type=float, default=1.0, help="seconds before sending [1]")
    parser.add_argument("--drain", type=float, default=5.0, help="max wait for late deliveries [5]")
    parser.add_argument("--connect-timeout", type=float, default=30.0, help="seconds per handshake [30]")
    parser.add_argument("--connect-concurrency", type=int, default=0, help="handshakes in flight, 0 = all")
    parser.add_argument("--workers", type=int, default=1, help="client processes [1]")
    parser.add_argument(
        "--parse", choices=["full", "fast"], default="full", help="fast: skip json.loads for message frames"
    )
    parser.add_argument("--server-pid", help="PID[,PID] of a local server: CPU and RSS from /proc")
    parser.add_argument("--label", default="", help="copied into the report")
    parser.add_argument("--json", dest="json_path", help="also write the JSON report here")
    parser.add_argument("--quiet", action="store_true", help="print only the JSON report")
    return parser


@dataclass
class Config:
    url: str
    rooms: list[str]
    clients: int
    senders: int
    rate: float
    saturate: bool
    window: int
    duration: float
    user_ids: list[int]
    jwt_secret: str
    iss: str
    origin: str
    text_size: int
    settle: float
    drain: float
    connect_timeout: float
    connect_concurrency: int
    workers: int
    fast: bool
    run: str = field(default_factory=lambda: uuid.uuid4().hex[:6])

    @property
    def sending(self) -> bool:
        return self.senders > 0 and self.duration > 0


def config_from_args(args: argparse.Namespace) -> Config:
    values = {**DEFAULTS, **(PRESETS[args.preset] if args.preset else {})}
    for name in DEFAULTS:
        if getattr(args, name) is not None:
            values[name] = getattr(args, name)
    clients = values["clients"]
    parts = urlsplit(args.url)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    if scheme not in ("ws", "wss") or not parts.netloc:
        raise SystemExit("--url must be ws://host:port or wss://host:port")
    origin = args.origin or f"{'https' if scheme == 'wss' else 'http'}://{parts.netloc}"
    if not args.jwt_secret:
        raise SystemExit("--jwt-secret (or CHAT_JWT_SECRET) is required to mint room tokens")
    return Config(
        url=urlunsplit((scheme, parts.netloc, "", "", "")),
        rooms=[r.strip() for r in args.rooms.split(",") if r.strip()],
        clients=clients,
        senders=min(values["senders"], clients),
        rate=values["rate"],
        saturate=bool(values["saturate"]),
        window=max(1, values["window"]),
        duration=values["duration"],
        user_ids=args.user_ids or list(range(1, clients + 1)),
        jwt_secret=args.jwt_secret,
        iss=args.iss,
        origin=origin,
        text_size=args.text_size,
        settle=args.settle,
        drain=args.drain,
        connect_timeout=args.connect_timeout,
        connect_concurrency=args.connect_concurrency,
        workers=max(1, min(args.workers, clients or 1)),
        fast=args.parse == "fast",
    )


# --------------------------------------------------------------------------- /proc


def descendants(pids: list[int]) -> list[int]:
    """`pids` and every process below them (a launcher's server processes)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found, frontier = list(pids), list(pids)
    while frontier:
        frontier = [c for p in frontier for c in children.get(p, [])]
        found.extend(frontier)
    return found


def proc_sample(pids: list[int]) -> dict[str, float] | None:
    """CPU seconds (utime+stime), RSS and peak RSS (VmHWM, MB) summed over `pids`."""
    cpu = rss = hwm = 0.0
    seen = 0
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        cpu += (int(fields[11]) + int(fields[12])) / CLK_TCK
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                rss += int(line.split()[1]) / 1024
            elif line.startswith("VmHWM:"):
                hwm += int(line.split()[1]) / 1024
        seen += 1
    return {"cpu_s": cpu, "rss_mb": rss, "hwm_mb": hwm} if seen else None


# --------------------------------------------------------------------------- the room's event log

# What SeqLog.see makes of a room event; UNTRACKED: no seq to go by (a server without one).
NEW, LATE, DUPLICATE, UNTRACKED = 0, 1, 2, 3


class SeqLog:
    """One client's view of its room's event log (SPEC "Delivery"): which seqs it got since its welcome.

    Every room event (message, deletion, ...) carries the room's next seq, 1, 2, 3, ... with no
    gaps. The welcome says where the log stood (`base`); every seq above it is this client's to
    receive. `high` is the highest seq received, `missing` the seqs below it not received yet
    (usually empty: the common case, the next seq, allocates nothing), `known` the highest seq a
    position frame told of. A seq at or below `base`, or received before, is a duplicate.
    """

    __slots__ = ("base", "epoch", "high", "known", "missing")

    def __init__(self, base: int, epoch: Any = None) -> None:
        self.base = self.high = self.known = base
        self.epoch = epoch
        self.missing: set[int] = set()

    def see(self, seq: int) -> int:
        """Take a room event's seq: NEW (in order), LATE (fills a gap: out of order) or DUPLICATE."""
        high = self.high
        if seq > high:
            if seq != high + 1:
                self.missing.update(range(high + 1, seq))
            self.high = seq
            return NEW
        if seq in self.missing:
            self.missing.discard(seq)
            return LATE
        return DUPLICATE

    def position(self, seq: Any, epoch: Any) -> None:
        """A position frame: the log stands at `seq` (of another epoch, seqs are not comparable)."""
        if isinstance(seq, int) and epoch == self.epoch and seq > self.known:
            self.known = seq

    def lost(self) -> int:
        """Seqs between base+1 and the highest known (received or told of) that never arrived."""
        return len(self.missing) + max(0, self.known - self.high)


# --------------------------------------------------------------------------- one worker


@dataclass
class Client:
    index: int
    user_id: int
    room: str
    sender: int = -1  # global sender number, -1 for a listener
    ws: Any = None
    ready: bool = False
    connect_ms: float = 0.0
    last_id: int = 0
    last_seq: dict[int, int] = field(default_factory=dict)  # per sender, when frames carry no seq
    log: SeqLog | None = None  # when the welcome carries the room's seq
    received: int = 0  # distinct bench messages delivered
    seq: int = 0
    inflight: int = 0
    slot: asyncio.Event | None = None


class Worker:
    """Some of the clients, in one process and one event loop."""

    def __init__(self, config: Config, number: int, sync: Any) -> None:
        self.config = config
        self.sync = sync  # barrier, shared sent counter (None when running in-process alone)
        self.mark = f"lb|{config.run}|"
        self.clients = [
            Client(
                index=i,
                user_id=config.user_ids[i % len(config.user_ids)],
                room=config.rooms[i % len(config.rooms)],
                sender=i if i < config.senders else -1,
            )
            for i in range(number, config.clients, config.workers)
        ]
        self.latencies = array("d")
        self.sending = False
        self.counts: dict[str, Any] = {
            "sent": 0,
            "delivered": 0,
            "delivered_in_window": 0,
            "out_of_order": 0,
            "duplicates": 0,
            "id_order": 0,
            "presence": 0,
            "presence_changes": 0,
            "position": 0,
            "other": 0,
            "foreign": 0,
            "rejected": 0,
            "sent_by_room": {},
            "rejected_by_room": {},
            "connect_errors": {},
            "server_errors": {},
            "unexpected_close": {},
        }
        self.pad = "x" * max(config.text_size, 64)
        self.fast = config.fast

    # -- connect

    def token(self, client: Client) -> str:
        now = int(time.time())
        claims = {
            "sub": str(client.user_id),
            "name": f"bench {client.user_id}",
            "room": client.room,
            "aud": "rooms.ws",
            "iss": self.config.iss,
            "iat": now,
            "nbf": now,
            "exp": now + 300,
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(claims, self.config.jwt_secret, algorithm="HS256")

    async def connect(self, client: Client) -> None:
        url = f"{self.config.url}/ws/rooms/{client.room}/?{urlencode({'token': self.token(client)})}"
        start = time.monotonic()
        try:
            ws = await websockets.connect(
                url,
                origin=self.config.origin,
                open_timeout=self.config.connect_timeout,
                max_size=None,
                compression=None,
                ping_interval=None,
                max_queue=None,
            )
            first = json.loads(await asyncio.wait_for(ws.recv(), self.config.connect_timeout))
        except websockets.InvalidStatus as error:
            self.bump("connect_errors", f"http_{error.response.status_code}")
            return
        except (OSError, TimeoutError, websockets.WebSocketException) as error:
            self.bump("connect_errors", type(error).__name__)
            return
        if first.get("type") != "welcome":
            self.bump("connect_errors", f"first_frame_{first.get('type')}")
            await ws.close()
            return
        self.welcomed(client, first)
        client.ws, client.ready = ws, True
        client.connect_ms = (time.monotonic() - start) * 1000

    def welcomed(self, client: Client, welcome: dict[str, Any]) -> None:
        """Start the client's view of the room's event log where the welcome says it stands."""
        seq = welcome.get("seq")
        if isinstance(seq, int):
            client.log = SeqLog(seq, welcome.get("epoch"))

    async def connect_all(self) -> float:
        limit = self.config.connect_concurrency
        gate = asyncio.Semaphore(limit) if limit > 0 else None

        async def one(client: Client) -> None:
            if gate is None:
                await self.connect(client)
            else:
                async with gate:
                    await self.connect(client)
            if client.ready:
                self.readers.append(asyncio.create_task(self.read(client)))

        start = time.monotonic()
        await asyncio.gather(*(one(c) for c in self.clients))
        return time.monotonic() - start

    # -- receive

    def bump(self, kind: str, key: str) -> None:
        self.counts[kind][key] = self.counts[kind].get(key, 0) + 1

    async def read(self, client: Client) -> None:
        receive = self.receive
        try:
            async for raw in client.ws:
                receive(client, raw)
        except websockets.ConnectionClosed as closed:
            if self.sending or not self.closing:
                self.bump("unexpected_close", str(closed.rcvd.code if closed.rcvd else 1006))

    def receive(self, client: Client, raw: str) -> None:
        """Account for one frame the client received (after its welcome)."""
        mark = self.mark
        if self.fast:
            at = raw.find(mark)
            if at >= 0:
                seq = None
                if client.log is not None:  # else a server without seq: don't look for one
                    key = raw.rfind(SEQ_KEY)
                    if key >= 0:
                        try:  # ours ends with it: ..."seq":N}
                            seq = int(raw[key + SEQ_KEY_LEN : -1])
                        except ValueError:
                            seq = seq_after(raw, key + SEQ_KEY_LEN)
                self.delivered(client, raw, at + len(mark), None, seq)
                return
        frame = json.loads(raw)
        kind = frame.get("type")
        if kind == "message":
            text = frame.get("text", "")
            if text.startswith(mark):
                self.delivered(client, text, len(mark), frame.get("id"), frame.get("seq"))
            else:
                self.counts["foreign"] += 1
                self.room_event(client, frame.get("seq"))
        elif kind in ("user_joined", "user_left"):
            self.counts["presence"] += 1
            self.counts["presence_changes"] += 1
        elif kind == "presence_diff":  # several changes in one frame (the server coalesces them)
            self.counts["presence"] += 1
            self.counts["presence_changes"] += len(frame.get("joins") or ()) + len(frame.get("leaves") or ())
        elif kind == "position":  # where the log stands: no delivery, but it reveals a lost tail
            self.counts["position"] += 1
            if client.log is not None:
                client.log.position(frame.get("seq"), frame.get("epoch"))
        elif kind == "error":
            self.bump("server_errors", str(frame.get("code")))
            if client.sender >= 0:
                self.counts["rejected"] += 1
                self.bump("rejected_by_room", client.room)
                self.release(client)
        else:
            self.counts["other"] += 1
            self.room_event(client, frame.get("seq"))  # message_deleted, and later event types

    def room_event(self, client: Client, seq: Any) -> None:
        """A room event that is not one of ours: it still takes its place in the client's log."""
        if isinstance(seq, int) and client.log is not None:
            state = client.log.see(seq)
            if state == DUPLICATE:
                self.counts["duplicates"] += 1
            elif state == LATE:
                self.counts["out_of_order"] += 1

    def delivered(
        self, client: Client, text: str, at: int, message_id: int | None, room_seq: int | None
    ) -> None:
        """One of this run's messages reached `client`; `room_seq` is its room event's seq, if any."""
        now = time.monotonic()
        counts = self.counts
        log = client.log
        if room_seq is None or log is None:
            state = UNTRACKED
        elif room_seq == log.high + 1:  # the common case, SeqLog.see inlined
            log.high, state = room_seq, NEW
        else:
            state = log.see(room_seq)
            if state == DUPLICATE:  # dropped, as a client applies each event once
                counts["duplicates"] += 1
                return
        end = text.index("|", at)
        sender = int(text[at:end])
        at, end = end + 1, text.index("|", end + 1)
        seq = int(text[at:end])
        at, end = end + 1, text.index("|", end + 1)
        sent_at = float(text[at:end])
        counts["delivered"] += 1
        client.received += 1
        if self.sending:
            counts["delivered_in_window"] += 1
        self.latencies.append((now - sent_at) * 1000)
        # Out of order: after a later room event (seq), or, without seq, after a later
        # message of the same sender (its own sequence number in the text).
        if state == LATE:
            counts["out_of_order"] += 1
        elif state == UNTRACKED:
            if seq <= client.last_seq.get(sender, -1):
                counts["out_of_order"] += 1
            else:
                client.last_seq[sender] = seq
        if message_id is not None:
            if message_id <= client.last_id:
                counts["id_order"] += 1
            else:
                client.last_id = message_id
        if sender == client.sender:
            self.release(client)

    def per_client(self) -> list[list[Any]]:
        """[room, distinct messages received, seq gaps] of each connected client, for tally()."""
        return [[c.room, c.received, c.log.lost() if c.log else 0] for c in self.clients if c.ready]

    def release(self, client: Client) -> None:
        client.inflight -= 1
        if client.slot is not None:
            client.slot.set()

    # -- send

    def text(self, sender: int, number: int) -> str:
        """A message's text: this run's mark, sender, its sequence number and the send time."""
        head = f"{self.mark}{sender}|{number}|{time.monotonic():.6f}|"
        size = self.config.text_size
        return head if len(head) >= size else head + self.pad[: size - len(head)]

    async def send_one(self, client: Client) -> None:
        text = self.text(client.sender, client.seq)
        client.seq += 1
        client.inflight += 1
        self.counts["sent"] += 1
        self.bump("sent_by_room", client.room)
        with contextlib.suppress(websockets.ConnectionClosed):
            await client.ws.send(json.dumps({"type": "message", "text": text, "client_id": uuid.uuid4().hex}))

    async def sender_loop(self, client: Client, until: float) -> None:
        config = self.config
        if config.saturate:
            client.slot = asyncio.Event()
            while time.monotonic() < until:
                if client.inflight < config.window:
                    await self.send_one(client)
                    continue
                client.slot.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(client.slot.wait(), max(0.0, until - time.monotonic()))
            return
        interval = 1.0 / config.rate
        next_at = time.monotonic() + interval * (client.index % 97) / 97  # spread the phases
        while next_at < until:
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            while next_at <= time.monotonic() and next_at < until:  # catch up when late
                await self.send_one(client)
                next_at += interval

    # -- the run

    async def wait_all(self) -> None:
        """Meet the other workers and the coordinator (keeps this loop receiving meanwhile)."""
        if self.sync is not None:
            await asyncio.to_thread(self.sync[0].wait)

    async def run(self) -> dict[str, Any]:
        self.readers: list[asyncio.Task] = []
        self.closing = False
        connect_s = await self.connect_all()
        ready = [c for c in self.clients if c.ready]
        await self.wait_all()  # 1: everyone connected
        # Presence frames still in flight settle during --settle.
        await asyncio.sleep(self.config.settle)
        presence_at_connect = self.counts["presence"]
        await self.wait_all()  # 2: start sending
        send_start = time.monotonic()
        self.sending = True
        senders = [c for c in ready if c.sender >= 0]
        if self.config.sending:
            until = send_start + self.config.duration
            await asyncio.gather(*(self.sender_loop(c, until) for c in senders))
            await asyncio.sleep(max(0.0, until - time.monotonic()))
        self.sending = False
        send_s = time.monotonic() - send_start
        if self.sync is not None:
            with self.sync[1].get_lock():
                self.sync[1].value += self.counts["sent"]
        await self.wait_all()  # 3: sending stopped
        total_sent = self.sync[1].value if self.sync is not None else self.counts["sent"]
        expected = total_sent * len(ready)
        rejected_total = self.counts["rejected"]  # only this worker's view: good enough for the wait
        deadline = time.monotonic() + self.config.drain
        target = expected - rejected_total * len(ready)
        while self.counts["delivered"] < target and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.02)
        drain_s = time.monotonic() - send_start - send_s
        await self.wait_all()  # 4: drained
        self.closing = True
        await asyncio.gather(*(c.ws.close() for c in ready), return_exceptions=True)
        for task in self.readers:
            task.cancel()
        await asyncio.gather(*self.readers, return_exceptions=True)
        return {
            **self.counts,
            "per_client": self.per_client(),
            "seq_clients": sum(c.log is not None for c in ready),
            "attempted": len(self.clients),
            "ready": len(ready),
            "connect_s": connect_s,
            "connect_ms": [c.connect_ms for c in ready],
            "presence_at_connect": presence_at_connect,
            "send_s": send_s,
            "drain_s": drain_s,
            "latencies": self.latencies.tobytes(),
        }


def worker_main(config: Config, number: int, barrier: Any, sent: Any, results: Any) -> None:
    try:
        result = asyncio.run(Worker(config, number, (barrier, sent)).run())
    except BaseException as error:
        barrier.abort()
        results.put({"error": repr(error)})
        raise
    results.put(result)


# --------------------------------------------------------------------------- coordinator


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    index = min(len(values) - 1, max(0, int(-(-p * len(values) // 100)) - 1))
    return values[index]


def run(config: Config, server_pids: list[int] | None = None, label: str = "") -> dict[str, Any]:
    """Run the scenario with config.workers processes; the report as a dict."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(config.workers + 1)
    sent = context.Value("q", 0)
    results = context.Queue()
    workers = [
        context.Process(target=worker_main, args=(config, n, barrier, sent, results), daemon=True)
        for n in range(config.workers)
    ]
    for process in workers:
        process.start()
    pids = descendants(server_pids) if server_pids else []
    samples: dict[str, Any] = {"start": proc_sample(pids) if pids else None}
    phase_names = ["connected", "send_start", "send_end", "drained"]
    timeout = config.connect_timeout * 2 + config.settle + config.duration + config.drain + 60
    started = time.monotonic()
    for name in phase_names:
        barrier.wait(timeout=timeout)
        if pids:
            pids = descendants(server_pids)
            samples[name] = proc_sample(pids)
        samples[f"{name}_at"] = time.monotonic() - started
    parts = [results.get(timeout=60) for _ in workers]
    for process in workers:
        process.join(timeout=10)
    errors = [p["error"] for p in parts if "error" in p]
    if errors:
        raise RuntimeError(f"a client worker failed: {errors}")
    if pids:
        samples["end"] = proc_sample(pids)
    return report(config, parts, samples, server_pids, label)


def merge_counts(parts: list[dict[str, Any]], key: str) -> dict[str, int]:
    merged: dict[str, int] = {}
    for part in parts:
        for name, count in part[key].items():
            merged[name] = merged.get(name, 0) + count
    return merged


def tally(
    per_client: list[list[Any]], sent_by_room: dict[str, int], rejected_by_room: dict[str, int]
) -> dict[str, int]:
    """Deliveries expected and lost over every connected client ([room, received, seq gaps] each).

    Lost, the one definition: deliveries a connected client was owed and never got. It owes
    two things, both counted per client, so that nothing nets out across clients (one
    client's extra deliveries cannot cover another's loss):
    - every room event after its welcome up to the highest seq it knows of (from frames or
      position frames): its seq gaps. They catch any event (others' messages, deletions)
      and are immune to duplicates, but not a lost tail: a 20 s run rarely sees a position
      frame after the last event, so the last events lost leave no gap.
    - every message this run sent to its room and the server did not refuse (an error frame):
      its shortfall, those minus the distinct ones it received. It catches the tail and
      messages that never got a seq (never stored, or a server without seq).
    A lost message of ours is usually in both, so a client's lost is the larger of the two,
    not their sum. Without seq, seq gaps are 0 and this is the shortfall alone, as before.
    """
    expected = lost = seq_gaps = 0
    for room, received, gaps in per_client:
        due = sent_by_room.get(room, 0)
        expected += due
        seq_gaps += gaps
        lost += max(gaps, due - rejected_by_room.get(room, 0) - received)
    return {"expected": expected, "lost": lost, "seq_gaps": seq_gaps}


def report(
    config: Config,
    parts: list[dict[str, Any]],
    samples: dict[str, Any],
    server_pids: list[int] | None,
    label: str,
) -> dict[str, Any]:
    total = {k: sum(p[k] for p in parts) for k in ("sent", "delivered", "delivered_in_window", "rejected")}
    counted = (
        "out_of_order",
        "duplicates",
        "id_order",
        "presence",
        "presence_changes",
        "position",
        "foreign",
        "seq_clients",
    )
    total.update({k: sum(p[k] for p in parts) for k in counted})
    ready = sum(p["ready"] for p in parts)
    attempted = sum(p["attempted"] for p in parts)
    presence_at_connect = sum(p["presence_at_connect"] for p in parts)
    latencies = array("d")
    for part in parts:
        latencies.frombytes(part["latencies"])
    lat = sorted(latencies)
    connect = sorted(ms for p in parts for ms in p["connect_ms"])
    send_s = max(p["send_s"] for p in parts)
    connect_s = max(p["connect_s"] for p in parts)
    losses = tally(
        [c for p in parts for c in p["per_client"]],
        merge_counts(parts, "sent_by_room"),
        merge_counts(parts, "rejected_by_room"),
    )
    distinct = min(len(set(config.user_ids)), config.clients)
    result: dict[str, Any] = {
        "tool": "bench.loadclient",
        "label": label,
        "url": config.url,
        "rooms": config.rooms,
        "config": {
            "clients": config.clients,
            "senders": config.senders,
            "mode": ("saturate" if config.saturate else "rate") if config.sending else "connect",
            "rate_per_sender": None if config.saturate or not config.sending else config.rate,
            "window": config.window if config.saturate and config.sending else None,
            "duration_s": config.duration if config.sending else 0,
            "text_size": config.text_size,
            "workers": config.workers,
            "parse": "fast" if config.fast else "full",
        },
        "connect": {
            "attempted": attempted,
            "ok": ready,
            "failed": attempted - ready,
            "total_ms": round(connect_s * 1000, 1),
            "p50_ms": _r(percentile(connect, 50)),
            "p99_ms": _r(percentile(connect, 99)),
            "max_ms": _r(connect[-1] if connect else None),
            "errors": merge_counts(parts, "connect_errors"),
        },
        "send": {"sent": total["sent"], "sent_per_s": _r(total["sent"] / send_s if send_s else None)},
        "deliveries": {
            # Every message sent to a client's room, once per connected client.
            "expected": losses["expected"],
            # Distinct deliveries of our messages: duplicates (by seq) are not counted.
            "received": total["delivered"],
            "lost": losses["lost"],  # see tally()
            "seq_gaps": losses["seq_gaps"],  # the seq part of lost (0 when the server sends no seq)
            "duplicates": total["duplicates"],  # room events whose seq the client had already
            "per_s": _r(total["delivered_in_window"] / send_s if config.sending and send_s else None),
            # A room event below the highest seq the client had (without seq: a message older
            # than one of the same sender's it had).
            "out_of_order": total["out_of_order"],
            "id_order_violations": total["id_order"],
            "seq_clients": total["seq_clients"],  # clients whose welcome carried the room's seq
            "position_frames": total["position"],
            "rejected_sends": total["rejected"],
            "foreign": total["foreign"],
            "presence_frames": presence_at_connect,
            "presence_changes": total["presence_changes"],
            # Joins racing each other learn about each other from the welcome frame's
            # user list rather than a user_joined, so a storm may see fewer than this.
            "presence_if_sequential": distinct * (distinct - 1) // 2 if distinct == config.clients else None,
        },
        "latency_ms": {
            "samples": len(lat),
            "p50": _r(percentile(lat, 50)),
            "p90": _r(percentile(lat, 90)),
            "p99": _r(percentile(lat, 99)),
            "max": _r(lat[-1] if lat else None),
        },
        "errors": {
            "server_frames": merge_counts(parts, "server_errors"),
            "unexpected_close": merge_counts(parts, "unexpected_close"),
        },
    }
    start, conn = samples.get("start"), samples.get("connected")
    s0, s1, end = samples.get("send_start"), samples.get("send_end"), samples.get("end")
    if server_pids and start and conn:
        server: dict[str, Any] = {
            "pids": server_pids,
            "cpu_s_connect": _r(conn["cpu_s"] - start["cpu_s"]),
            "rss_mb_connected": _r(conn["rss_mb"]),
            "peak_rss_mb": _r((end or conn)["hwm_mb"]),
        }
        if s0 and s1 and config.sending:
            cpu = s1["cpu_s"] - s0["cpu_s"]
            server["cpu_s_send"] = _r(cpu)
            server["cores_send"] = _r(cpu / send_s if send_s else None)
            window = total["delivered_in_window"]
            server["cpu_us_per_delivery"] = _r(cpu * 1e6 / window if window else None)
        result["server"] = server
    return result


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def summary(result: dict[str, Any]) -> str:
    c, d, lat = result["connect"], result["deliveries"], result["latency_ms"]
    lines = [
        f"{result['label'] or result['url']}: {c['ok']}/{c['attempted']} connected in {c['total_ms']} ms "
        f"(p50 {c['p50_ms']} ms, p99 {c['p99_ms']} ms){' errors ' + str(c['errors']) if c['errors'] else ''}",
    ]
    if result["config"]["mode"] != "connect":
        lines.append(
            f"  sent {result['send']['sent']} ({result['send']['sent_per_s']}/s), delivered {d['received']}"
            f"/{d['expected']}, {d['per_s']} deliveries/s; lost {d['lost']} (seq gaps {d['seq_gaps']})"
            f", duplicates {d['duplicates']}, out of order {d['out_of_order']}, id order"
            f" {d['id_order_violations']}"
        )
        lines.append(
            f"  latency ms p50 {lat['p50']} p90 {lat['p90']} p99 {lat['p99']} max {lat['max']}"
            f" ({lat['samples']} samples)"
        )
    lines.append(
        f"  presence frames {d['presence_frames']} ({d['presence_changes']} changes);"
        f" errors {result['errors']}"
    )
    if "server" in result:
        s = result["server"]
        per = ""
        if "cpu_s_send" in s:
            per = f", {s['cpu_us_per_delivery']} us CPU/delivery ({s['cores_send']} cores)"
        lines.append(f"  server: connect {s['cpu_s_connect']} CPU s, peak RSS {s['peak_rss_mb']} MB{per}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    config = config_from_args(args)
    pids = [int(p) for p in args.server_pid.split(",")] if args.server_pid else None
    result = run(config, pids, args.label)
    text = json.dumps(result, indent=2)
    if args.json_path:
        Path(args.json_path).write_text(text + "\n")
    if args.quiet:
        print(text)
    else:
        print(summary(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
