"""Writes: messages, deletions, archiving, mutes; sockets hear of each on commit (rooms.realtime.notify)."""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from chatsite.text import text_is_visible
from rooms.exceptions import EmptyMessage, MessageTooLong
from rooms.models import Message, Room, RoomMute, new_epoch
from rooms.realtime import notify
from rooms.realtime.protocol import outbound
from rooms.selectors import message_get_by_client_id

logger = logging.getLogger(__name__)


def message_clean_text(text: str) -> str:
    """Strip a message's text, or raise EmptyMessage (nothing visible) / MessageTooLong."""
    text = text.strip()
    if not text or not text_is_visible(text):
        raise EmptyMessage()
    limit = settings.CHAT_MAX_MESSAGE_LENGTH
    if len(text) > limit:
        raise MessageTooLong(f"Messages are at most {limit} characters; that one has {len(text)}.")
    return text


def room_seq_next(*, room: Room, count: int = 1) -> int:
    """The room's next seq (or the last of `count` in a row), in the transaction storing the event.

    The one place a seq is assigned. The UPDATE locks the room's row until the
    transaction ends (SQLite's immediate transactions lock the whole database),
    so concurrent writers on any process take 1, 2, 3, ... in turn and commit
    in that order; a rolled-back transaction gives its seq back: no gaps, no reuse.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("room_seq_next() must run inside the transaction that stores the event")
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Room._meta.db_table} SET seq = seq + %s WHERE id = %s RETURNING seq",  # noqa: S608
            [count, room.pk],
        )
        (seq,) = cursor.fetchone()
    return seq


def room_epoch_renew(*, slugs: list[str] | None = None) -> int:
    """Give these rooms (or all) a new epoch: seqs clients hold from before mean nothing now.

    Returns how many rooms were renewed. Open sockets keep theirs until they
    reconnect, when their resume is refused and they start over.
    """
    rooms = Room.objects.all() if slugs is None else Room.objects.filter(slug__in=slugs)
    renewed = 0
    for room in rooms.only("pk"):
        renewed += Room.objects.filter(pk=room.pk).update(epoch=new_epoch())
    logger.info("new event-log epoch for %s room(s)", renewed)
    return renewed


def message_create(*, room: Room, author, text: str, client_id: str = "") -> tuple[Message, bool]:
    """Store a message; a retry with the same client_id returns the stored one.

    Returns the message and whether it was created now (False for a retry).
    A retry of a message a moderator has deleted returns that deleted message:
    callers check `deleted_at` before showing it to anyone.
    """
    text = message_clean_text(text)
    # Insert first: retries are rare, so the usual message costs its seq and
    # one insert; the unique (room, author, client_id) index turns a retry into
    # IntegrityError, which rolls the seq back too.
    try:
        with transaction.atomic():
            seq = room_seq_next(room=room)
            message = Message.objects.create(
                room=room, author=author, text=text, client_id=client_id, seq=seq, changed_seq=seq
            )
    except IntegrityError:
        # A retry (a resend after a reconnect, or two tabs racing), perhaps
        # of a message that has since been deleted.
        existing = message_get_by_client_id(
            room=room, author=author, client_id=client_id, include_deleted=True
        )
        if existing is None:
            raise
        return existing, False
    return message, True


@transaction.atomic
def message_delete(*, message: Message, moderator) -> None:
    """Hide a message from history and from everyone's screen: a room event with its own seq."""
    # Locked and read again: of two moderators deleting at once, one makes the event.
    current = Message.objects.select_for_update().filter(pk=message.pk).values("deleted_at").first()
    if current is None or current["deleted_at"] is not None:
        return
    seq = room_seq_next(room=message.room)
    message.deleted_at, message.changed_seq = timezone.now(), seq
    message.save(update_fields=["deleted_at", "changed_seq"])
    logger.info("message %s in %s deleted by %s", message.pk, message.room.slug, moderator)
    notify.room_send_on_commit(room=message.room.slug, frame=outbound.message_deleted(message.pk, seq=seq))


@transaction.atomic
def room_archive(*, room: Room, moderator=None) -> None:
    """Archive a room: it leaves the dashboard and its sockets close with 4404."""
    if room.archived:
        return
    room.archived = True
    room.save(update_fields=["archived"])
    logger.info("room %s archived by %s", room.slug, moderator)
    notify.room_close_on_commit(room=room.slug)


@transaction.atomic
def user_mute(*, room: Room, user, until: datetime, moderator, reason: str = "") -> RoomMute:
    """Mute a user in a room until `until`; their open sockets learn it at once."""
    mute, _ = RoomMute.objects.update_or_create(
        room=room, user=user, defaults={"until": until, "reason": reason, "created_by": moderator}
    )
    logger.info("user %s muted in %s until %s by %s: %s", user.pk, room.slug, until, moderator, reason)
    notify.user_mute_notify(user_id=user.pk, room=room.slug, until=until)
    return mute


@transaction.atomic
def user_unmute(*, room: Room, user, moderator) -> None:
    """Lift a mute before its time."""
    RoomMute.objects.filter(room=room, user=user).delete()
    logger.info("user %s unmuted in %s by %s", user.pk, room.slug, moderator)
    notify.user_mute_notify(user_id=user.pk, room=room.slug, until=None)
