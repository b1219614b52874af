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

from channels.db import database_sync_to_async

from rooms.models import Message
from rooms.realtime.round_trips import RoundTrips
from rooms.services import MessageDraft, message_create_many

# A bound on one transaction, so that a flood never holds the database's write lock for long.
MOST_PER_COMMIT = 64


class GroupCommit:
    """This process's queue of messages to store, drained one transaction at a time."""

    def __init__(self) -> None:
        self._transactions: RoundTrips[MessageDraft, tuple[Message, bool]] = RoundTrips(
            _store_together,
            failure=lambda reason: RuntimeError(f"storing the message failed: {reason}"),
            most_per_trip=MOST_PER_COMMIT,
        )

    async def store(self, draft: MessageDraft) -> tuple[Message, bool]:
        """What message_create gives for the draft (or raises), once its transaction has committed."""
        return await self._transactions.ask(draft)


async def _store_together(drafts: list[MessageDraft]) -> list[tuple[Message, bool] | Exception]:
    # In the drafts' order, so their senders broadcast in seq order.
    return await database_sync_to_async(message_create_many)(drafts)
