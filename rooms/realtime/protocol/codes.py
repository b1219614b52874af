"""WebSocket close codes of ours (static/js/room/protocol.js mirrors them).

daphne lets an application close only with 1000 or 3000-4999, so ours mirror
the standard codes: 4008 ~ 1008 policy violation, 4009 ~ 1009 too big,
4011 ~ 1011 internal error, 4012 ~ 1012 service restart, 4013 ~ 1013 try again later; 44xx mirror HTTP.
"""

from __future__ import annotations

from enum import IntEnum


class CloseCode(IntEnum):
    """Why we closed a socket; the client decides from it whether to reconnect."""

    # Ten refused frames in a row: garbage, or flooding past the rate limit.
    POLICY_VIOLATION = 4008
    # A frame over CHAT_MAX_FRAME_BYTES.
    TOO_BIG = 4009
    # An unexpected server error: reconnect and resume.
    INTERNAL_ERROR = 4011
    # The server lost its shared state (Redis restarted): reconnect and resume.
    SERVICE_RESTART = 4012
    # The client read too slowly to keep up with its room: what was queued for it
    # is dropped; reconnect and resume from the event log.
    TOO_SLOW = 4013
    # Signed out or deactivated: the page asks for a ticket, which says whether its session still holds.
    SIGNED_OUT = 4401
    # The person may no longer enter the room (removed, or a group gone): do not reconnect.
    ACCESS_LOST = 4403
    # The room was archived: do not reconnect.
    ROOM_CLOSED = 4404
