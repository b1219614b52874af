"""What travels between processes on the channel layer: group names and event types.

Group names fit Channels' rule: [a-zA-Z0-9-_.], under 100 characters.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from rooms.realtime.protocol.outbound import Frame, encode

# The frames of one presence change, which a hub may coalesce (RoomHub).
PRESENCE_NEWS = frozenset({"user_joined", "user_left"})


class RoomEvent(StrEnum):
    """Events on a room's group, handled by the room hub (rooms.realtime.hub)."""

    # A frame for every socket in the room.
    FRAME = "room.frame"
    # The room was archived: room_closed, then close code 4404.
    CLOSED = "room.closed"
    # A frame worth nothing late (typing): never queued behind others, never
    # to the sockets of the user it names (`typist`).
    EPHEMERAL = "room.ephemeral"
    # Who may enter the room changed: each socket re-checks its person's access (4403).
    ACCESS = "room.access"


class UserEvent(StrEnum):
    """Events on a user's group, handled by each of their sockets (RoomConsumer.user_<name>).

    SIGNED_OUT goes to a session's group too (session_group): that session ended.
    """

    # Signed out or deactivated (or, on a session's group, that session ended): close with 4401.
    SIGNED_OUT = "user.signed_out"
    # Muted (or unmuted) in one room.
    MUTED = "user.muted"
    # Read a room up to a seq (another tab, or the dashboard, follows).
    READ = "user.read"
    # The rooms the user may enter changed (a membership, their provider groups):
    # room sockets re-check theirs (4403), dashboards list their rooms afresh.
    ACCESS_CHANGED = "user.access_changed"


class DashboardEvent(StrEnum):
    """Events on the dashboard group, handled by every dashboard socket (DashboardConsumer)."""

    # These rooms' counts may have changed (a message, someone came or went).
    ACTIVITY = "dashboard.activity"
    # Who may enter some room changed: each dashboard lists its person's rooms afresh.
    RELIST = "dashboard.relist"


# Every dashboard socket, on every process, joins it.
DASHBOARD_GROUP = "dashboard"


def dashboard_activity(*, rooms: list[str]) -> dict[str, str | list[str]]:
    """The dashboard-group event naming rooms whose counts may have changed."""
    return {"type": str(DashboardEvent.ACTIVITY), "rooms": rooms}


def dashboard_relist() -> dict[str, str]:
    """The dashboard-group event asking every dashboard to list its person's rooms afresh."""
    return {"type": str(DashboardEvent.RELIST)}


_ROOM_GROUP = "room."


def room_group(slug: str) -> str:
    """The group of a room: one subscription per process (the room hub) joins it."""
    return f"{_ROOM_GROUP}{slug}"


def is_room_group(group: str) -> bool:
    """Whether `group` is a room's (only room hubs join those)."""
    return group.startswith(_ROOM_GROUP)


def is_logged_room_event(event: dict) -> bool:
    """Whether a room event is one of the room's log (a frame with a seq): a page that misses it fetches it.

    Every room frame without a presence version is: a message, an edit, a
    deletion, reactions. Presence news, typing, a room's closing and an access
    change are not, and nothing brings them back once missed.
    """
    return event.get("type") == RoomEvent.FRAME and "version" not in event


def user_group(user_id: int) -> str:
    """The group every socket of one user joins, so sign-out can close them all."""
    return f"user.{user_id}"


def session_group(socket_session: str) -> str:
    """The group every socket opened with tickets of one site session joins (accounts.sessions)."""
    return f"session.{socket_session}"


def socket_groups(*, user_id: int, session: str) -> list[str]:
    """The groups a socket joins: its user's, and the site session's that minted its ticket (if any)."""
    groups = [user_group(user_id)]
    if session:
        groups.append(session_group(session))
    return groups


def room_event(
    frame: Frame,
    *,
    kind: RoomEvent = RoomEvent.FRAME,
    skip: str | None = None,
    version: int | None = None,
    typist: int | None = None,
) -> dict[str, Any]:
    """The channel-layer event that writes `frame`, encoded once, to every socket of a room.

    `skip` names one channel that does not get it (a newcomer's own arrival).
    `version` is the presence version of a user_joined or user_left: each
    socket drops the ones its welcome frame already told (no re-parsing).
    Presence news also carries the frame itself (`presence`), so that a hub can
    coalesce changes close together into one presence_diff.
    """
    event: dict[str, Any] = {"type": str(kind), "frame": encode(frame)}
    if skip:
        event["skip"] = skip
    if version is not None:
        event["version"] = version
        if frame["type"] in PRESENCE_NEWS:
            event["presence"] = frame
    if typist is not None:
        event["typist"] = typist
    return event
