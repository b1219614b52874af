"""The one bridge from the chat domain to the transport: events sent once the transaction commits.

Services never touch the channel layer: they call these, and the event goes
out only if (and when) the transaction that made the change commits, so no
socket ever hears of a change that was rolled back. The event types are
`rooms.realtime.protocol.layer`'s; the room hub and RoomConsumer's
`user_<name>` handlers receive them.
"""

from __future__ import annotations

from datetime import datetime

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from rooms.realtime.protocol import outbound
from rooms.realtime.protocol.layer import (
    DASHBOARD_GROUP,
    RoomEvent,
    UserEvent,
    dashboard_activity,
    dashboard_relist,
    room_event,
    room_group,
    session_group,
    user_group,
)


def _group_send_on_commit(group: str, event: dict, *more: tuple[str, dict]) -> None:
    """One callback for the commit, sending `event` to `group` (then each of `more`, in order)."""
    layer = get_channel_layer()
    sends = [(group, event), *more]

    def send() -> None:
        for to, what in sends:
            async_to_sync(layer.group_send)(to, what)

    transaction.on_commit(send)


def room_send_on_commit(*, room: str, frame: outbound.Frame) -> None:
    """Send a frame to every socket in a room, on every process, once the transaction commits.

    Dashboards hear of the room too: a deletion or an edit's mention changes
    counts, and this may be a process (a view, the admin) that ticks for no socket.
    """
    _group_send_on_commit(
        room_group(room), room_event(frame), (DASHBOARD_GROUP, dashboard_activity(rooms=[room]))
    )


def room_close_on_commit(*, room: str) -> None:
    """Tell every socket in an archived room (room_closed), then close them with 4404."""
    _group_send_on_commit(room_group(room), room_event(outbound.room_closed(), kind=RoomEvent.CLOSED))


def user_send_on_commit(*, user_id: int, kind: UserEvent, **fields: str | int | None) -> None:
    """Send an event to every socket of one user, on every process, once the transaction commits."""
    _group_send_on_commit(user_group(user_id), {"type": str(kind), **fields})


def user_sockets_close(*, user_id: int) -> None:
    """Close every socket this user has open (sign-out, deactivation): code 4401."""
    user_send_on_commit(user_id=user_id, kind=UserEvent.SIGNED_OUT)


def user_access_changed(*, user_id: int) -> None:
    """The rooms this person may enter changed: their sockets re-check theirs (4403), dashboards relist."""
    user_send_on_commit(user_id=user_id, kind=UserEvent.ACCESS_CHANGED)


def room_access_changed(*, room: str) -> None:
    """Who may enter this room changed: every socket in it re-checks (4403), every dashboard relists."""
    _group_send_on_commit(
        room_group(room), {"type": str(RoomEvent.ACCESS)}, (DASHBOARD_GROUP, dashboard_relist())
    )


def session_sockets_close(*, socket_session: str) -> None:
    """Close every socket opened with this site session's tickets (the session ended): code 4401."""
    _group_send_on_commit(session_group(socket_session), {"type": str(UserEvent.SIGNED_OUT)})


def user_read_notify(*, user_id: int, room: str, seq: int) -> None:
    """Tell the user's sockets (room tabs, dashboards) that they have read `room` up to `seq`."""
    user_send_on_commit(user_id=user_id, kind=UserEvent.READ, room=room, seq=seq)


def user_mute_notify(*, user_id: int, room: str, until: datetime | None) -> None:
    """Tell the user's open sockets in `room` that they are muted until `until` (None: unmuted)."""
    until_text = outbound.iso_utc(until) if until else None
    user_send_on_commit(user_id=user_id, kind=UserEvent.MUTED, room=room, until=until_text)
