"""Smoke run of the bench load client against a real daphne (tiny numbers, nothing timed)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from django.conf import settings

from bench import loadclient
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
    )
    manage(env, "migrate", "--no-input")
    subprocess.run([sys.executable, "bench/prepare_db.py", "3"], cwd=BASE_DIR, env=env, check=True)
    daphne = start_server(env, tmp_path, "bench", server=request.param)
    try:
        yield daphne
    finally:
        daphne.stop()


def test_three_clients_lose_nothing(server):
    options = loadclient.build_parser().parse_args(
        [
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
    assert result["deliveries"]["received"] > 0
    assert result["deliveries"]["lost"] == 0, result["deliveries"]
    assert result["deliveries"]["out_of_order"] == 0
    assert result["deliveries"]["id_order_violations"] == 0
    assert result["server"]["peak_rss_mb"] > 0
    assert result["server"]["cpu_us_per_delivery"] is not None


def test_presets_and_user_ids():
    assert loadclient.parse_ids("1-3,7") == [1, 2, 3, 7]
    options = loadclient.build_parser().parse_args(["--preset=B", "--jwt-secret=k", "--senders=4"])
    config = loadclient.config_from_args(options)
    assert (config.clients, config.senders, config.saturate, config.window) == (100, 4, True, 5)
