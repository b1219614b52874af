"""Messages sent while the database thread is busy are stored together: one transaction, one commit.

Every message is stored before it is broadcast, on the one thread Channels
gives async code for the database. Under load, a message's own transaction,
its commit (a write-ahead log append, and every 1,000 pages SQLite's
checkpoint with its fsync) and its hop to that thread and back cost more than
its INSERT. Here a message waits only while the messages before it are being
stored, never on a timer: whatever arrived meanwhile goes in the next
transaction, in the order sent (a group commit). A message sent alone goes at
once, as before.
"""

from __future__ import annotations

import asyncio

from channels.db import database_sync_to_async

from rooms.models import Message
from rooms.services import MessageDraft, message_create_many

# A bound on one transaction, so that a flood never holds the database's write lock for long.
MOST_PER_COMMIT = 64


class GroupCommit:
    """This process's queue of messages to store, drained one transaction at a time."""

    def __init__(self) -> None:
        self._waiting: list[tuple[MessageDraft, asyncio.Future]] = []
        self._draining: asyncio.Task | None = None

    async def store(self, draft: MessageDraft) -> tuple[Message, bool]:
        """What message_create gives for the draft (or raises), once its transaction has committed."""
        loop = asyncio.get_running_loop()
        stored = loop.create_future()
        if self._draining is not None and self._draining.get_loop() is not loop:
            # A queue left by an event loop that has ended (tests run one per case): its senders are gone.
            self._waiting, self._draining = [], None
        self._waiting.append((draft, stored))
        if self._draining is None or self._draining.done():
            self._draining = loop.create_task(self._drain())
        return await stored

    async def _drain(self) -> None:
        while self._waiting:
            # A sender that gave up (its socket closed) before its turn is not stored for.
            batch = [entry for entry in self._waiting[:MOST_PER_COMMIT] if not entry[1].done()]
            del self._waiting[:MOST_PER_COMMIT]
            if not batch:
                continue
            try:
                outcomes = await database_sync_to_async(message_create_many)([draft for draft, _ in batch])
            except Exception as error:  # nothing of this batch was stored: each sender hears it
                outcomes = [_failure(error) for _ in batch]
            # In the drafts' order, so their senders broadcast in seq order.
            for (_, stored), outcome in zip(batch, outcomes, strict=True):
                if stored.done():
                    continue
                if isinstance(outcome, Exception):
                    stored.set_exception(outcome)
                else:
                    stored.set_result(outcome)


def _failure(error: Exception) -> Exception:
    # One exception per sender: one raised in many tasks would grow one traceback.
    failure = RuntimeError(f"storing the message failed: {error!r}")
    failure.__cause__ = error
    return failure
