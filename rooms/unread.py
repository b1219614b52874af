"""Reads: what each person has not read yet, per room (the dashboard's and the tab title's counts).

Unread: messages by others after the person's read seq (rooms.models.RoomRead),
not deleted. Mentions: those of them that mention the person; in a room they
never entered (no RoomRead), every mention of them counts and nothing else does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, F, FilteredRelation, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from accounts.models import User
from rooms.access import room_shown_names, rooms_open_to
from rooms.models import Mention, Message, Room, RoomRead
from rooms.realtime.protocol.outbound import Frame, dashboard_room


@dataclass(frozen=True)
class Unread:
    """One person's counts in one room."""

    unread: int = 0
    mentions: int = 0


def room_read_seq(*, user: User, room: Room) -> int | None:
    """The seq this person has read the room up to; None if they never entered it."""
    return RoomRead.objects.filter(user=user, room=room).values_list("seq", flat=True).first()


def unread_counts(*, user: User, rooms: list[Room]) -> dict[str, Unread]:
    """Unread and mention counts per room slug, in two queries whatever the number of rooms.

    Unread joins each room's messages after the read seq on the (room, seq)
    index: a count costs the unread messages, not the room's history.
    """
    after_read = FilteredRelation(
        "room__messages",
        condition=Q(room__messages__seq__gt=F("seq"), room__messages__deleted_at__isnull=True)
        & ~Q(room__messages__author=user),
    )
    unread = dict(
        RoomRead.objects.filter(user=user, room__in=rooms)
        .annotate(unseen=after_read)
        .annotate(n=Count("unseen"))
        .values_list("room_id", "n")
    )
    # -1: never entered, so that every mention there counts.
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
    """When each room's newest visible message was sent (rooms without one are left out).

    The newest by id, walking the (room, id) index backwards past deleted ones.
    """
    newest = Message.objects.filter(room=OuterRef("pk"), deleted_at__isnull=True).order_by("-id")
    latest = Room.objects.filter(pk__in=[room.pk for room in rooms]).annotate(
        at=Subquery(newest.values("created_at")[:1])
    )
    return {slug: at for slug, at in latest.values_list("slug", "at") if at is not None}


def dashboard_rooms(
    *, user: User, online: Callable[[list[str]], dict[str, int]], slugs: list[str] | None = None
) -> list[Frame]:
    """The active rooms this person may enter (or those of `slugs`) as their dashboard shows them, by name.

    `online(slugs)` counts who is in each (presence is the transport's).
    """
    rooms = rooms_open_to(user_id=user.pk)
    if slugs is not None:
        rooms = rooms.filter(slug__in=slugs)
    listed = list(rooms)
    if not listed:
        return []
    counts = unread_counts(user=user, rooms=listed)
    last = room_last_activity(rooms=listed)
    people = online([room.slug for room in listed])
    names = room_shown_names(rooms=listed, user_id=user.pk)
    listed.sort(key=lambda room: names[room.pk].casefold())
    return [
        dashboard_room(
            slug=room.slug,
            name=names[room.pk],
            kind=room.kind,
            description=room.description,
            unread=counts[room.slug].unread,
            mentions=counts[room.slug].mentions,
            online=people.get(room.slug, 0),
            last_activity=last.get(room.slug),
        )
        for room in listed
    ]
