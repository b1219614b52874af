"""SQLite's WAL checkpoints, moved off the thread that stores messages.

SQLite copies its write-ahead log into the database file (a checkpoint) from
whichever connection commits past 1000 pages, and that commit waits for the
fsync of both files. Under ASGI it is the one database thread every message
waits on: on a slow disk, scenario A's p99 latency rose by tens to hundreds
of milliseconds (docs/PERFORMANCE.md, "SQLite's checkpoints").
So the server process turns them off for its connections, and one thread
of its own checkpoints every SQLITE_CHECKPOINT_INTERVAL seconds. The checkpoints
are PASSIVE: they never wait for a reader or the writer, and copy what they can.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created

logger = logging.getLogger("chatsite.sqlite")

_started = threading.Event()


def _no_automatic_checkpoints(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_autocheckpoint=0")


def _take_over_checkpoints() -> None:
    connection_created.connect(_no_automatic_checkpoints, weak=False)


def checkpoint_every(
    path: str, interval: float, *, stop: threading.Event, started: Callable[[], None] = lambda: None
) -> None:
    """Checkpoint the database at `path` every `interval` seconds until `stop` is set.

    `started` is called once this thread has its connection: only then may
    the commits stop checkpointing, or nothing ever would.
    """
    database = sqlite3.connect(path, timeout=5)
    started()
    try:
        while not stop.wait(interval):
            try:
                database.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            except Exception:  # the thread must outlive any one failure, or the log grows unbounded
                logger.warning("checkpointing %s failed; trying again in %s s", path, interval, exc_info=True)
    finally:
        database.close()


def sqlite_file(database: dict[str, Any], interval: float) -> str | None:
    """The file of this database if it is SQLite on a file and checkpoints are ours (`interval` > 0)."""
    path = str(database["NAME"])
    in_memory = path == ":memory:" or "mode=memory" in path
    if interval <= 0 or database["ENGINE"] != "django.db.backends.sqlite3" or in_memory:
        return None
    return path


def checkpoints_in_background() -> bool:
    """In this server process, checkpoint in a thread of our own instead of in commits; False if not SQLite.

    Connections opened before this keep SQLite's automatic checkpoints, which is harmless.
    """
    interval = settings.SQLITE_CHECKPOINT_INTERVAL
    path = sqlite_file(settings.DATABASES["default"], interval)
    if path is None or _started.is_set():
        return False
    _started.set()
    thread = threading.Thread(
        target=checkpoint_every,
        args=(path, interval),
        kwargs={"stop": threading.Event(), "started": _take_over_checkpoints},
        name="sqlite-checkpoints",
        daemon=True,  # nothing to finish: SQLite checkpoints as the last connection closes
    )
    thread.start()
    return True
