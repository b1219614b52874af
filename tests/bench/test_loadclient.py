"""Smoke run of the bench load client against a real daphne and uvicorn (tiny numbers, nothing timed),
and its delivery accounting (seq gaps, duplicates, out of order) on frames fed to it directly."""

from __future__ import annotations

import subprocess
import sys

import pytest
from django.conf import settings

from bench import loadclient
from rooms.realtime.protocol import outbound
from tests.servers import BASE_DIR, manage, server_env, start_server


@pytest.fixture(params=["daphne", "uvicorn"])
def server(request, tmp_path):
    """daphne (and uvicorn, the measured faster server) on a SQLite database of its own, users 1..3."""
    env = server_env(
        DJANGO_DEBUG="1",
        DATABASE_URL=f"sqlite:///{tmp_path / 'bench.sqlite3'}",
        CHAT_JWT_SECRET=settings.CHAT_JWT_SECRET,
        CHAT_JWT_ISSUER=settings.CHAT_JWT_ISSUER,
        CHAT_RATE_LIMIT="1000000",
        CHAT_POSITION_INTERVAL="0.5",  # a few position frames during the run
    )
    manage(env, "migrate", "--no-input")
    subprocess.run([sys.executable, "bench/prepare_db.py", "3"], cwd=BASE_DIR, env=env, check=True)
    daphne = start_server(env, tmp_path, "bench", server=request.param)
    try:
        yield daphne
    finally:
        daphne.stop()


def test_three_clients_lose_nothing(server, request):
    # Each parse mode against one server, to keep the smoke short.
    parse = "fast" if request.node.callspec.params["server"] == "uvicorn" else "full"
    options = loadclient.build_parser().parse_args(
        [
            f"--parse={parse}",
            f"--url=ws://127.0.0.1:{server.port}",
            "--clients=3",
            "--senders=2",
            "--rate=5",
            "--duration=2",
            "--settle=0.3",
            "--user-ids=1-3",
            f"--jwt-secret={settings.CHAT_JWT_SECRET}",
            f"--iss={settings.CHAT_JWT_ISSUER}",
        ]
    )
    result = loadclient.run(loadclient.config_from_args(options), [server.process.pid], "smoke")

    assert result["connect"]["ok"] == 3, (result["connect"], server.log())
    deliveries = result["deliveries"]
    assert deliveries["received"] > 0
    assert deliveries["received"] == deliveries["expected"], deliveries
    assert deliveries["lost"] == 0, deliveries
    assert deliveries["seq_clients"] == 3, deliveries  # every welcome carried the room's seq
    assert (deliveries["seq_gaps"], deliveries["duplicates"]) == (0, 0), deliveries
    assert deliveries["position_frames"] > 0, deliveries  # and were not counted as deliveries
    assert deliveries["out_of_order"] == 0
    assert deliveries["id_order_violations"] == 0
    assert result["server"]["peak_rss_mb"] > 0
    assert result["server"]["cpu_us_per_delivery"] is not None


def test_presets_and_user_ids():
    assert loadclient.parse_ids("1-3,7") == [1, 2, 3, 7]
    options = loadclient.build_parser().parse_args(["--preset=B", "--jwt-secret=k", "--senders=4"])
    config = loadclient.config_from_args(options)
    assert (config.clients, config.senders, config.saturate, config.window) == (100, 4, True, 5)


def fed_worker(parse: str, welcome: dict) -> tuple[loadclient.Worker, loadclient.Client]:
    """A worker of one client (sender 0, room "general") that has had `welcome`; no sockets."""
    options = loadclient.build_parser().parse_args(
        ["--jwt-secret=k", "--clients=1", "--senders=1", f"--parse={parse}"]
    )
    worker = loadclient.Worker(loadclient.config_from_args(options), 0, None)
    client = worker.clients[0]
    worker.welcomed(client, welcome)
    client.ready = True
    return worker, client


def ours(worker: loadclient.Worker, number: int, seq: int | None) -> str:
    """Our message `number` of sender 0 as the server sends it (seq None: a server without seq)."""
    frame = outbound.message(
        message_id=100 + number,
        room="general",
        user_id=1,
        user_name="bench 1",
        text=worker.text(0, number),
        sent_at="2026-01-01T00:00:00.000Z",
        client_id="c",
        seq=seq or 0,
    )
    if seq is None:
        del frame["seq"]
    return outbound.encode(frame)


def position(seq: int, epoch: str = "e1") -> str:
    return outbound.encode(outbound.position(seq=seq, epoch=epoch))


def lost(worker: loadclient.Worker, sent: int) -> dict[str, int]:
    return loadclient.tally(worker.per_client(), {"general": sent}, {})


@pytest.mark.parametrize("parse", ["full", "fast"])
def test_a_missing_seq_is_lost_and_a_repeated_one_a_duplicate(parse):
    worker, _ = fed_worker(parse, {"type": "welcome", "seq": 10, "epoch": "e1", "history": []})
    joined = outbound.encode(outbound.user_joined(outbound.member(user_id=2, name="b")))
    # Messages 0, 1, 2 got seqs 11, 12, 13; 12 never comes, 13 comes twice.
    for raw in (ours(worker, 0, 11), joined, ours(worker, 2, 13), ours(worker, 2, 13), position(13)):
        worker.receive(worker.clients[0], raw)
    counts = worker.counts
    assert (counts["delivered"], counts["duplicates"], counts["out_of_order"]) == (2, 1, 0)
    assert (counts["presence"], counts["position"], counts["other"]) == (1, 1, 0)
    assert lost(worker, sent=3) == {"expected": 3, "lost": 1, "seq_gaps": 1}

    worker.receive(worker.clients[0], ours(worker, 1, 12))  # late: out of order, no longer lost
    assert (counts["delivered"], counts["duplicates"], counts["out_of_order"]) == (3, 1, 1)
    assert lost(worker, sent=3) == {"expected": 3, "lost": 0, "seq_gaps": 0}

    # A position frame reveals events never received (not ours: no shortfall); another epoch's doesn't.
    worker.receive(worker.clients[0], position(15))
    worker.receive(worker.clients[0], position(99, epoch="e2"))
    assert lost(worker, sent=3) == {"expected": 3, "lost": 2, "seq_gaps": 2}
    assert worker.counts["delivered"] == 3  # position frames are no deliveries


def test_other_room_events_take_their_seq():
    worker, _ = fed_worker("full", {"type": "welcome", "seq": 0, "epoch": "e1", "history": []})
    client = worker.clients[0]
    worker.receive(client, ours(worker, 0, 2))
    worker.receive(client, outbound.encode(outbound.message_deleted(7, seq=3)))
    foreign = outbound.message(
        message_id=9, room="general", user_id=2, user_name="b", text="hi", sent_at="", client_id="", seq=1
    )
    worker.receive(client, outbound.encode(foreign))  # late (below 3), and not ours
    worker.receive(client, outbound.encode(outbound.message_deleted(7, seq=3)))  # again
    counts = worker.counts
    assert (counts["delivered"], counts["foreign"], counts["other"]) == (1, 1, 2)
    assert (counts["out_of_order"], counts["duplicates"]) == (1, 1)
    assert lost(worker, sent=1) == {"expected": 1, "lost": 0, "seq_gaps": 0}


@pytest.mark.parametrize("parse", ["full", "fast"])
def test_without_seq_it_counts_as_before(parse):
    """A server that sends no seq (the original Node.js one): per sender order and shortfall."""
    worker, client = fed_worker(parse, {"type": "welcome", "history": []})
    assert client.log is None
    for number in (0, 2, 1):  # 3 never comes
        worker.receive(client, ours(worker, number, None))
    counts = worker.counts
    assert (counts["delivered"], counts["out_of_order"], counts["duplicates"]) == (3, 1, 0)
    assert lost(worker, sent=4) == {"expected": 4, "lost": 1, "seq_gaps": 0}


def test_lost_is_per_client_and_per_room():
    per_client = [["a", 3, 0], ["a", 5, 0], ["b", 1, 2]]  # [room, distinct received, seq gaps]
    # a: 5 sent, 1 refused: the first client misses 1; the second's extra cannot make up for it.
    # b: 1 sent and received, but 2 seq gaps (events not ours).
    assert loadclient.tally(per_client, {"a": 5, "b": 1}, {"a": 1}) == {
        "expected": 11,
        "lost": 3,
        "seq_gaps": 2,
    }
