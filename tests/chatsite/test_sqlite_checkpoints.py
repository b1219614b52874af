"""chatsite.sqlite_checkpoints: what is stored reaches the database file with no commit checkpointing."""

from __future__ import annotations

import sqlite3
import threading
import time

from django.db.utils import ConnectionHandler

from chatsite.sqlite_checkpoints import _no_automatic_checkpoints, checkpoint_every, sqlite_file

# A bound on waiting for the thread, not a timed assertion.
PATIENCE = 10
BLOB = 2 * 1024 * 1024


def test_stored_pages_reach_the_database_file_from_the_checkpoint_thread(tmp_path):
    """The writer never checkpoints (as in the server); the thread copies its log into the file."""
    path = str(tmp_path / "chat.sqlite3")
    writer = sqlite3.connect(path)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")
    writer.execute("CREATE TABLE message (text BLOB)")
    writer.execute("INSERT INTO message VALUES (?)", (b"x" * BLOB,))
    writer.commit()
    assert (tmp_path / "chat.sqlite3").stat().st_size < BLOB  # still only in the write-ahead log

    stop, started = threading.Event(), threading.Event()
    thread = threading.Thread(
        target=checkpoint_every, args=(path, 0.05), kwargs={"stop": stop, "started": started.set}
    )
    thread.start()
    try:
        deadline = time.monotonic() + PATIENCE
        while (tmp_path / "chat.sqlite3").stat().st_size < BLOB and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join()
        writer.close()
    assert (tmp_path / "chat.sqlite3").stat().st_size >= BLOB
    assert started.is_set()  # only then may the server's commits stop checkpointing


def test_the_server_s_connections_leave_checkpoints_to_the_thread(tmp_path, django_db_blocker):
    """Each SQLite connection of the server has automatic checkpoints off (else a commit may still fsync)."""
    handler = ConnectionHandler(
        {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(tmp_path / "c.db")}}
    )
    connection = handler["default"]
    with django_db_blocker.unblock():  # a database of the test's own, not the suite's
        try:
            _no_automatic_checkpoints(sender=None, connection=connection)
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA wal_autocheckpoint")
                assert cursor.fetchone()[0] == 0
        finally:
            handler.close_all()


def test_the_server_checkpoints_only_a_sqlite_file():
    """Not with an interval of 0, not PostgreSQL, not an in-memory database; a file, yes."""
    sqlite = {"ENGINE": "django.db.backends.sqlite3", "NAME": "/srv/chat/db.sqlite3"}

    assert sqlite_file(sqlite, 1.0) == "/srv/chat/db.sqlite3"
    assert sqlite_file(sqlite, 0) is None
    assert sqlite_file({"ENGINE": "django.db.backends.postgresql", "NAME": "chat"}, 1.0) is None
    assert sqlite_file({**sqlite, "NAME": ":memory:"}, 1.0) is None
    assert sqlite_file({**sqlite, "NAME": "file:memorydb_default?mode=memory&cache=shared"}, 1.0) is None
