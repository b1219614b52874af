"""Reads: what each person has not read yet, per room (the dashboard's and the tab title's counts).

Unread: messages by others after the person's read seq (rooms.models.RoomRead),
not deleted. Mentions: those of them that mention the person; in a room they
never entered (no RoomRead), every mention of them counts and nothing else does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, F, Max, OuterRef, Subquery
from django.db.models.functions import Coalesce

from accounts.models import User
from rooms.models import Mention, Message, Room, RoomRead


@dataclass(frozen=True)
class Unread:
    """One person's counts in one room."""

    unread: int = 0
    mentions: int = 0


def room_read_seq(*, user: User, room: Room) -> int | None:
    """The seq this person has read the room up to; None if they never entered it."""
    return RoomRead.objects.filter(user=user, room=room).values_list("seq", flat=True).first()


def unread_counts(*, user: User, rooms: list[Room]) -> dict[str, Unread]:
    """Unread and mention counts per room slug, in two queries whatever the number of rooms."""
    # -1: never entered, so that nothing there counts as unread but mentions do.
    read_seq = Coalesce(
        Subquery(RoomRead.objects.filter(user=user, room=OuterRef("room")).values("seq")[:1]), -1
    )
    unread = dict(
        Message.objects.filter(room__in=rooms, deleted_at__isnull=True)
        .exclude(author=user)
        .annotate(read=read_seq)
        .filter(read__gte=0, seq__gt=F("read"))
        .values("room_id")
        .annotate(n=Count("id"))
        .values_list("room_id", "n")
    )
    mention_read_seq = Coalesce(
        Subquery(RoomRead.objects.filter(user=user, room=OuterRef("message__room")).values("seq")[:1]), -1
    )
    mentions = dict(
        Mention.objects.filter(user=user, message__room__in=rooms, message__deleted_at__isnull=True)
        .annotate(read=mention_read_seq)
        .filter(message__seq__gt=F("read"))
        .values("message__room_id")
        .annotate(n=Count("id"))
        .values_list("message__room_id", "n")
    )
    return {
        room.slug: Unread(unread=unread.get(room.pk, 0), mentions=mentions.get(room.pk, 0)) for room in rooms
    }


def room_last_activity(*, rooms: list[Room]) -> dict[str, datetime]:
    """When each room's newest visible message was sent (rooms without one are left out)."""
    latest = dict(
        Message.objects.filter(room__in=rooms, deleted_at__isnull=True)
        .values("room_id")
        .annotate(at=Max("created_at"))
        .values_list("room_id", "at")
    )
    return {room.slug: latest[room.pk] for room in rooms if room.pk in latest}
