"""chatsite.sqlite_checkpoints: in the server a thread copies the log; commits checkpoint past the bound."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest
from django.conf import settings
from django.db.backends.signals import connection_created
from django.db.backends.sqlite3.base import DatabaseWrapper

from chatsite import sqlite_checkpoints
from chatsite.sqlite_checkpoints import (
    LOG_BOUND_FRAMES,
    checkpoint,
    checkpointer_connection,
    stop_checkpoints,
    take_over_checkpoints,
)

PAGE = 4096
# A bound on a wait for the thread, not a timed assertion.
PATIENCE = 20


def log_frames(database) -> int:
    """How many frames the write-ahead log file has room for (its size; SQLite reuses it from the start)."""
    wal = database.with_name(database.name + "-wal")
    return max(0, wal.stat().st_size - 32) // (PAGE + 24) if wal.exists() else 0


def rows_in_database_file(database) -> int:
    """The rows the database file itself holds, the log ignored: what checkpoints have copied."""
    reader = sqlite3.connect(f"file:{database}?immutable=1", uri=True)
    try:
        return reader.execute("SELECT count(*) FROM t").fetchone()[0]
    finally:
        reader.close()


def write_rows(connection, rows: int) -> None:
    """A page or so per row, one commit per row: the way messages are stored when they come one by one."""
    for _ in range(rows):
        connection.execute("INSERT INTO t (text) VALUES (?)", ("x" * (PAGE - 200),))


@pytest.fixture
def database(tmp_path):
    """A file database in WAL mode holding an empty table t (in the database file itself)."""
    path = tmp_path / "chat.sqlite3"
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, text TEXT)")
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    return path


def checkpoints_taken_over() -> bool:
    return any(lookup_key[0] == "sqlite-checkpoints" for lookup_key, *_ in connection_created.receivers)


@pytest.fixture
def connect_as_server(database, monkeypatch, django_db_blocker):
    """connect(name, interval): a connection to `database` as the server opens one, checkpoints taken over."""
    taken_over_before = checkpoints_taken_over()  # chatsite.asgi, imported by conftest, takes them over
    servers = []

    def connect(name: str, *, interval: float) -> sqlite3.Connection:
        monkeypatch.setattr(sqlite_checkpoints, "CHECKPOINT_INTERVAL", interval)
        take_over_checkpoints()
        server = DatabaseWrapper({**settings.DATABASES["default"], "NAME": name}, alias="checkpoints")
        with django_db_blocker.unblock():
            server.ensure_connection()  # sends connection_created
        servers.append(server)
        return server.connection

    yield connect
    for server in servers:
        server.close()
    stop_checkpoints()
    assert "sqlite-checkpoints" not in {thread.name for thread in threading.enumerate()}
    if not taken_over_before:
        connection_created.disconnect(dispatch_uid="sqlite-checkpoints")


@pytest.mark.parametrize("name", ["{database}", "file:{database}?mode=rw"], ids=["path", "uri"])
def test_the_thread_copies_what_the_servers_commits_write(database, connect_as_server, name):
    """No commit below the bound checkpoints, yet the file soon holds every row: the thread copied."""
    server_connection = connect_as_server(name.format(database=database), interval=0.05)
    assert server_connection.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == LOG_BOUND_FRAMES
    write_rows(server_connection, 1200)  # past SQLite's own 1,000 pages, below our bound

    deadline = time.monotonic() + PATIENCE
    while rows_in_database_file(database) < 1200 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert rows_in_database_file(database) == 1200


def test_under_a_stream_of_writes_the_log_stays_bounded(database, connect_as_server):
    """When the thread cannot keep up, a commit past the bound checkpoints and the log starts over."""
    server_connection = connect_as_server(str(database), interval=3600)  # a thread that never catches up
    write_rows(server_connection, 3 * LOG_BOUND_FRAMES)

    assert log_frames(database) < 1.5 * LOG_BOUND_FRAMES
    assert server_connection.execute("SELECT count(*) FROM t").fetchone()[0] == 3 * LOG_BOUND_FRAMES


def test_a_checkpoint_never_waits_for_a_transaction_in_progress(database):
    """While a message's transaction is open, what was committed is copied, and the checkpoint returns."""
    writer = sqlite3.connect(database, isolation_level=None)
    write_rows(writer, 300)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO t (text) VALUES ('being stored')")

    frames, copied = checkpoint(checkpointer_connection(str(database)))

    assert frames == copied > 0
    assert rows_in_database_file(database) == 300
    writer.execute("COMMIT")
    assert writer.execute("SELECT count(*) FROM t").fetchone()[0] == 301
