"""Writes: messages, archiving, deactivating users, closing sockets. Side effects run on commit."""

from __future__ import annotations

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from rooms import events
from rooms.exceptions import EmptyMessage, MessageTooLong
from rooms.groups import room_group, user_group
from rooms.models import Message, Room, RoomMute
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


def _group_send_on_commit(group: str, event: dict) -> None:
    layer = get_channel_layer()
    transaction.on_commit(lambda: async_to_sync(layer.group_send)(group, event))


@transaction.atomic
def message_delete(*, message: Message, moderator) -> None:
    """Hide a message from history and from everyone's screen."""
    if message.deleted_at is not None:
        return
    message.deleted_at = timezone.now()
    message.save(update_fields=["deleted_at"])
    logger.info("message %s in %s deleted by %s", message.pk, message.room.slug, moderator)
    event = events.layer_event(events.message_deleted(message.pk))
    _group_send_on_commit(room_group(message.room.slug), event)


@transaction.atomic
def room_archive(*, room: Room, moderator=None) -> None:
    """Archive a room: it leaves the dashboard and its sockets close with 4404."""
    if room.archived:
        return
    room.archived = True
    room.save(update_fields=["archived"])
    logger.info("room %s archived by %s", room.slug, moderator)
    event = events.layer_event(events.room_closed(), kind="room.closed")
    _group_send_on_commit(room_group(room.slug), event)


def user_sockets_close(*, user_id: int) -> None:
    """Close every socket this user has open (sign-out, deactivation): code 4401."""
    _group_send_on_commit(user_group(user_id), {"type": "user.signed_out"})


@transaction.atomic
def user_deactivate(*, user, moderator=None) -> None:
    """Deactivate a user: no more sign-in or tokens, and every open socket closes (4401)."""
    if not user.is_active:
        return
    user.is_active = False
    user.save(update_fields=["is_active"])
    logger.info("user %s (%s) deactivated by %s", user.pk, user, moderator)
    user_sockets_close(user_id=user.pk)


def _mute_event(*, room: Room, until) -> dict:
    return {"type": "user.muted", "room": room.slug, "until": events.iso_utc(until) if until else None}


@transaction.atomic
def user_mute(*, room: Room, user, until, moderator, reason: str = "") -> RoomMute:
    """Mute a user in a room until `until`; their open sockets learn it at once."""
    mute, _ = RoomMute.objects.update_or_create(
        room=room, user=user, defaults={"until": until, "reason": reason, "created_by": moderator}
    )
    logger.info("user %s muted in %s until %s by %s: %s", user.pk, room.slug, until, moderator, reason)
    _group_send_on_commit(user_group(user.pk), _mute_event(room=room, until=until))
    return mute


@transaction.atomic
def user_unmute(*, room: Room, user, moderator) -> None:
    """Lift a mute before its time."""
    RoomMute.objects.filter(room=room, user=user).delete()
    logger.info("user %s unmuted in %s by %s", user.pk, room.slug, moderator)
    _group_send_on_commit(user_group(user.pk), _mute_event(room=room, until=None))
