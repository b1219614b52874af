"""Smoke run of bench/database_hop.py on a fresh SQLite database (tiny numbers, nothing timed)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

from tests.servers import BASE_DIR, server_env


def test_the_hop_benchmark_reports_its_three_figures_and_stores_what_it_says(tmp_path):
    """Five rounds: three CPU figures printed, and eleven messages stored (five each way, one warm-up)."""
    database = tmp_path / "hop.sqlite3"
    env = server_env(DJANGO_DEBUG="1", DATABASE_URL=f"sqlite:///{database}")
    for step in (["manage.py", "migrate", "--no-input", "-v", "0"], ["bench/prepare_db.py", "1"]):
        subprocess.run([sys.executable, *step], cwd=BASE_DIR, env=env, check=True, capture_output=True)

    finished = subprocess.run(
        [sys.executable, "bench/database_hop.py", "5"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert finished.returncode == 0, finished.stdout + finished.stderr
    figures = [line for line in finished.stdout.splitlines() if "us CPU per" in line]
    assert [line.split(":")[0] for line in figures] == [
        "the hop alone",
        "one message stored, no hop",
        "one message stored, with hop",
    ]
    with sqlite3.connect(database) as connection:
        (stored,) = connection.execute("SELECT count(*) FROM rooms_message").fetchone()
    assert stored == 11
