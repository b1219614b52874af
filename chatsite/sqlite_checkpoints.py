"""SQLite's checkpoints, in the server, in a thread of their own: never in the commit that stores a message.

In WAL mode SQLite checkpoints (copies the log into the database file and
fsyncs both) inside the commit that takes the log past 1,000 pages: under
ASGI that is the one database thread every message is stored on. Measured
in kit A: 38 of 2,000 messages waited 6 ms for it, and set A's p99.

In a server process a thread checkpoints every CHECKPOINT_INTERVAL, PASSIVE:
it copies what it can without waiting for anyone, and its fsyncs run on this
thread with the GIL released. When a checkpoint has copied the whole log
before the next write begins, that write starts the log over, so under a
light load the log stays short and no commit checkpoints. Under a steady
stream of writes the thread never catches up, and a log that only grows
slows every page lookup (an earlier thread of this kind left 1.09 GB,
docs/PERFORMANCE.md). So the connections still checkpoint, past
LOG_BOUND_FRAMES instead of 1,000: by then the thread has copied most of the
log, and a commit's checkpoint copies the rest, fsyncs, and lets the log
start over. Nothing here blocks a writer: blocking checkpoints (TRUNCATE,
RESTART) from the thread made writers sleep on SQLite's busy handler, and
doubled B's p99.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created

logger = logging.getLogger(__name__)

CHECKPOINT_INTERVAL = 0.5  # seconds
LOG_BOUND_FRAMES = 4096  # 16 MB of 4 KB pages: past it, a commit checkpoints (SQLite's own default: 1,000)

# The database file -> its thread, and the event that stops that thread.
_checkpointers: dict[str, tuple[threading.Thread, threading.Event]] = {}
_checkpointers_lock = threading.Lock()


def checkpoint(connection: sqlite3.Connection) -> tuple[int, int]:
    """Copy what the log holds into the database file, waiting for no one: (frames in the log, copied)."""
    _, frames, copied = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    return frames, copied


def checkpointer_connection(path: str) -> sqlite3.Connection:
    """A connection of the checkpoints' own: it never waits for a lock (no busy timeout)."""
    return sqlite3.connect(path, timeout=0, isolation_level=None)


def take_over_checkpoints() -> None:
    """From now on, this process's SQLite connections leave most checkpoints to a thread of its own."""
    connection_created.connect(_hand_over, dispatch_uid="sqlite-checkpoints")


def stop_checkpoints() -> None:
    """Stop every checkpoint thread and wait for it: a test, or a shutdown, leaves none behind."""
    with _checkpointers_lock:
        running = list(_checkpointers.values())
        _checkpointers.clear()
    for thread, stop in running:
        stop.set()
        thread.join()


def _hand_over(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    if connection.vendor != "sqlite":
        return
    try:
        raw = connection.connection
        if raw.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            return  # a database in memory: no log to checkpoint
        raw.execute(f"PRAGMA wal_autocheckpoint={LOG_BOUND_FRAMES}")
        # SQLite's own name for the file, which NAME may not be (a file: URI, a relative path).
        database_file = next(file for _, name, file in raw.execute("PRAGMA database_list") if name == "main")
        _checkpointer_for(database_file)
    except Exception:  # the connection still works; only its checkpoints stay SQLite's own
        logger.exception("SQLite checkpoints not taken over for %s", connection.alias)


def _checkpointer_for(database_file: str) -> None:
    with _checkpointers_lock:
        running = _checkpointers.get(database_file)
        if running is None or not running[0].is_alive():  # after a fork, the parent's thread is not here
            stop = threading.Event()
            thread = threading.Thread(
                target=_checkpoint_forever, args=(database_file, stop), name="sqlite-checkpoints", daemon=True
            )
            _checkpointers[database_file] = (thread, stop)
            thread.start()


def _checkpoint_forever(database_file: str, stop: threading.Event) -> None:
    connection: sqlite3.Connection | None = None
    while not stop.wait(CHECKPOINT_INTERVAL):
        try:
            if connection is None:
                connection = checkpointer_connection(database_file)
            checkpoint(connection)
        except sqlite3.OperationalError as error:  # locked for the moment (a log being recovered)
            logger.debug("SQLite checkpoint skipped: %s", error)
        except Exception:  # keep going: a thread that stops leaves every checkpoint to the commits
            logger.exception("SQLite checkpoint failed")
    if connection is not None:
        connection.close()


def _after_fork_in_child() -> None:
    # A fork taken while another thread held the lock would leave the child's copy held forever.
    global _checkpointers_lock
    _checkpointers_lock = threading.Lock()


os.register_at_fork(after_in_child=_after_fork_in_child)
