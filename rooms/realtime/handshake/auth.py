"""JwtAuthMiddleware: the room token decides who a WebSocket belongs to."""

from __future__ import annotations

import logging
import time

from channels.db import database_sync_to_async
from django.contrib.auth.models import AnonymousUser

from accounts.models import User
from accounts.sessions import socket_session_is_live
from rooms.realtime.handshake import tickets
from rooms.realtime.handshake.query import query_param
from rooms.selectors import user_get_active

logger = logging.getLogger("rooms.ws")


def token_from_scope(scope: dict) -> str | None:
    """The room token from `?token=` or, for non-browser clients, a Bearer header."""
    token = query_param(scope, "token")
    if token:
        return token
    authorization = dict(scope.get("headers", [])).get(b"authorization", b"").decode("latin-1")
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return None


class JwtAuthMiddleware:
    """Fill scope["user"] and scope["room_ticket"] from the room token.

    An absent or bad token leaves an AnonymousUser and no ticket; the consumer
    refuses the handshake. The token itself is never logged.
    """

    def __init__(self, inner) -> None:
        self.inner = inner

    async def __call__(self, scope, receive, send):
        # Copy scope to stop changes going upstream.
        scope = dict(scope)
        scope["user"], scope["room_ticket"] = await self.authenticate(scope)
        return await self.inner(scope, receive, send)

    async def authenticate(self, scope: dict):
        """Return (user, ticket), or (AnonymousUser, None) when the token fails."""
        token = token_from_scope(scope)
        if token is None:
            logger.info("websocket refused: no token (%s)", scope.get("path"))
            return AnonymousUser(), None
        held = await ticket_holder(token, path=scope.get("path", ""))
        return held if held is not None else (AnonymousUser(), None)


async def ticket_holder(token: str, *, path: str) -> tuple[User, tickets.RoomTicket] | None:
    """The user a room token is good for right now, and its ticket; None (logged why) when it is not.

    At the handshake and for a refresh over an open socket: a valid JWT whose
    standing (ticket_standing) holds.
    """
    try:
        ticket = tickets.decode(token)
    except tickets.TokenError as exc:
        logger.info("websocket refused: bad token (%s) (%s)", exc, path)
        return None
    user, why = await database_sync_to_async(ticket_standing)(ticket)
    if user is None:
        logger.info("websocket refused: ticket of user %s %s (%s)", ticket.user_id, why, path)
        return None
    return user, ticket


def ticket_standing(ticket: tickets.RoomTicket) -> tuple[User | None, str]:
    """The active user a verified ticket is for, or None and why it no longer holds.

    Its user must be active and in the ticket's generation, its deadline not
    passed, and a live session must still hold its socket session.
    """
    user = user_get_active(user_id=ticket.user_id)
    if user is None:
        return None, "unknown or inactive"
    if ticket.generation != user.ticket_generation:
        return None, "revoked (deactivated or a new password since)"
    if ticket.until is not None and ticket.until <= time.time():
        return None, "past its session's deadline"
    if ticket.session and not socket_session_is_live(socket_session=ticket.session, user_id=ticket.user_id):
        return None, "of a session that ended (signed out since)"
    return user, ""
