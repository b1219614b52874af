"""Direct messages: a private room of exactly two people, opened by either of them.

Every room feature works in it because it is a room; only its name differs,
each of the two seeing the other's.
"""

from __future__ import annotations

import logging
import uuid

from django.db import IntegrityError, transaction

from accounts.models import User
from rooms.exceptions import DirectRoomRefused
from rooms.models import Room, RoomKind, RoomMember, RoomRead
from rooms.realtime import notify

logger = logging.getLogger(__name__)

CANNOT_MESSAGE_YOURSELF = "A direct conversation needs someone else."
NO_SUCH_PERSON = "No one by that name can be messaged."


def _direct_key(one: User, other: User) -> str:
    low, high = sorted((one.pk, other.pk))
    return f"{low}:{high}"


def direct_room_open(*, user: User, other: User) -> Room:
    """The direct room of these two people, made on first use (by either, even both at once)."""
    if other.pk == user.pk:
        raise DirectRoomRefused(CANNOT_MESSAGE_YOURSELF)
    if not other.is_active:
        raise DirectRoomRefused(NO_SUCH_PERSON)
    key = _direct_key(user, other)
    room = Room.objects.filter(direct_key=key).first()
    if room is not None:
        return room
    try:
        return _direct_room_create(key=key, people=(user, other))
    except IntegrityError:
        # The other one opened it at the same moment: theirs is ours.
        return Room.objects.get(direct_key=key)


@transaction.atomic
def _direct_room_create(*, key: str, people: tuple[User, User]) -> Room:
    names = " and ".join(person.get_display_name() for person in people)
    room = Room.objects.create(
        name=names[:100], slug=f"direct-{uuid.uuid4().hex[:16]}", kind=RoomKind.DIRECT, direct_key=key
    )
    RoomMember.objects.bulk_create(
        RoomMember(room=room, user=person, added_by=people[0]) for person in people
    )
    # Read up to nothing: whatever the other one writes is unread until seen, as in any inbox.
    RoomRead.objects.bulk_create(RoomRead(room=room, user=person, seq=0) for person in people)
    logger.info("direct room %s opened by user %s with user %s", room.slug, people[0].pk, people[1].pk)
    # Both dashboards list it from now on.
    for person in people:
        notify.user_access_changed(user_id=person.pk)
    return room
