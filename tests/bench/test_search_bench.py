"""Smoke run of bench/search.py on a small SQLite history (tiny numbers, nothing timed): it keeps working."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.servers import BASE_DIR, server_env


def test_the_search_benchmark_runs_and_reports_every_kind_of_search(tmp_path):
    """It generates a history, times every kind of search and inserts both ways, and rebuilds the index."""
    database = tmp_path / "search.sqlite3"
    out = tmp_path / "results.json"
    command = [sys.executable, "bench/search.py", "--database-url", f"sqlite:///{database}"]
    command += ["--messages", "3000", "--repeat", "2", "--inserts", "20", "--out", str(out)]
    finished = subprocess.run(
        command, cwd=BASE_DIR, env=server_env(), capture_output=True, text=True, timeout=300
    )

    assert finished.returncode == 0, finished.stdout + finished.stderr
    results = json.loads(out.read_text())
    assert len(results["queries"]) == 20  # ten kinds of search, pages 1 and 5
    assert all(query["runs"] == 2 for query in results["queries"])
    assert results["queries"][0]["matches"] > 0  # the most common word, in a small history too
    assert [row["inserts"] for row in results["inserts"]] == [20, 20, 20]
    check = subprocess.run(
        [sys.executable, "manage.py", "check", "--database", "default"],
        cwd=BASE_DIR,
        env=server_env(DJANGO_DEBUG="1", DATABASE_URL=f"sqlite:///{database}"),
        capture_output=True,
        text=True,
    )
    assert "rooms.W001" not in check.stdout + check.stderr  # the index was built again after the timing
