"""Writes: messages, deletions, archiving, mutes; sockets hear of each on commit (rooms.realtime.notify)."""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from rooms.exceptions import EmptyMessage, MessageTooLong
from rooms.models import Message, Room, RoomMute
from rooms.realtime import notify
from rooms.realtime.protocol import outbound
from rooms.selectors import message_get_by_client_id

logger = logging.getLogger(__name__)


def message_clean_text(text: str) -> str:
    """Strip a message's text, or raise EmptyMessage / MessageTooLong."""
    text = text.strip()
    if not text:
        raise EmptyMessage()
    limit = settings.CHAT_MAX_MESSAGE_LENGTH
    if len(text) > limit:
        raise MessageTooLong(f"Messages are at most {limit} characters; that one has {len(text)}.")
    return text


def message_create(*, room: Room, author, text: str, client_id: str = "") -> tuple[Message, bool]:
    """Store a message; a retry with the same client_id returns the stored one.

    Returns the message and whether it was created now (False for a retry).
    A retry of a message a moderator has deleted returns that deleted message:
    callers check `deleted_at` before showing it to anyone.
    """
    text = message_clean_text(text)
    # Insert first: retries are rare, so the usual message costs one statement;
    # the unique (room, author, client_id) index turns a retry into IntegrityError.
    try:
        with transaction.atomic():
            message = Message.objects.create(room=room, author=author, text=text, client_id=client_id)
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
    """Hide a message from history and from everyone's screen."""
    if message.deleted_at is not None:
        return
    message.deleted_at = timezone.now()
    message.save(update_fields=["deleted_at"])
    logger.info("message %s in %s deleted by %s", message.pk, message.room.slug, moderator)
    notify.room_send_on_commit(room=message.room.slug, frame=outbound.message_deleted(message.pk))


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
