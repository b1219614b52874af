"""The queue of messages to store: many to a transaction, each sender told its own outcome, in order."""

from __future__ import annotations

import asyncio

import pytest
from channels.db import database_sync_to_async

from rooms.exceptions import EmptyMessage
from rooms.models import Message, Room
from rooms.realtime.group_commit import GroupCommit
from rooms.services import MessageDraft

# serialized_rollback: keep the seeded rooms that a transactional flush would wipe.
pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


async def general() -> Room:
    return await database_sync_to_async(Room.objects.get)(slug="general")


async def stored_texts() -> list[str]:
    query = Message.objects.filter(room__slug="general").order_by("seq").values_list("text", flat=True)
    return await database_sync_to_async(list)(query)


async def test_messages_sent_at_once_are_all_stored_and_their_senders_resume_in_seq_order(alice):
    """Twenty senders at once: all stored, seqs 1..20 in the order sent, senders told in that order."""
    room, queue, resumed = await general(), GroupCommit(), []

    async def send(n: int) -> None:
        message, created = await queue.store(MessageDraft(room=room, author=alice, text=f"m{n}"))
        assert created
        resumed.append((message.seq, message.text))

    await asyncio.gather(*(send(n) for n in range(1, 21)))

    assert resumed == [(n, f"m{n}") for n in range(1, 21)]
    assert await stored_texts() == [f"m{n}" for n in range(1, 21)]


async def test_a_refused_message_fails_only_its_own_sender(alice):
    """Sent at the same moment as others, an empty message raises for its sender; theirs are stored."""
    room, queue = await general(), GroupCommit()
    texts = ["first", "first again", " ", "last"]
    outcomes = await asyncio.gather(
        *(queue.store(MessageDraft(room=room, author=alice, text=text)) for text in texts),
        return_exceptions=True,
    )

    assert isinstance(outcomes[2], EmptyMessage)
    assert [message.text for message, _created in (outcomes[0], outcomes[1], outcomes[3])] == [
        "first",
        "first again",
        "last",
    ]
    assert await stored_texts() == ["first", "first again", "last"]


async def test_a_sender_who_gives_up_before_their_turn_stores_nothing(alice):
    """A socket closed while its message waits behind others: that message is not stored."""
    room, queue = await general(), GroupCommit()
    first = asyncio.ensure_future(queue.store(MessageDraft(room=room, author=alice, text="on its way")))
    await asyncio.sleep(0)  # the first is queued, and the queue's drain is due
    waiting = asyncio.ensure_future(queue.store(MessageDraft(room=room, author=alice, text="given up")))
    await asyncio.sleep(0)  # the drain took the first; this one waits for the next transaction
    waiting.cancel()
    after = await queue.store(MessageDraft(room=room, author=alice, text="after"))

    assert (await first)[0].seq == 1
    assert after[0].seq == 2
    assert await stored_texts() == ["on its way", "after"]


async def test_a_resend_among_messages_sent_at_once_is_answered_with_what_was_stored(alice):
    """A client resending after a reconnect, beside others sending: its stored message comes back, once."""
    room, queue = await general(), GroupCommit()
    await queue.store(MessageDraft(room=room, author=alice, text="sent", client_id="c-1"))
    outcomes = await asyncio.gather(
        queue.store(MessageDraft(room=room, author=alice, text="new", client_id="c-2")),
        queue.store(MessageDraft(room=room, author=alice, text="sent", client_id="c-1")),
        queue.store(MessageDraft(room=room, author=alice, text="newer", client_id="c-3")),
    )

    assert [(message.text, message.seq, created) for message, created in outcomes] == [
        ("new", 2, True),
        ("sent", 1, False),
        ("newer", 3, True),
    ]
    assert await stored_texts() == ["sent", "new", "newer"]
