"""Room tokens: short-lived JWT connect tickets for one user in one room.

The token travels in the WebSocket query string because browsers cannot set
headers on a WebSocket; query strings get logged, hence the short TTL.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import jwt
from django.conf import settings

ALGORITHM = "HS256"
AUDIENCE = "rooms.ws"
LEEWAY_SECONDS = 5
# Far above any token we mint (~300 bytes); refuses oversized input before decoding.
MAX_TOKEN_BYTES = 2048
REQUIRED_CLAIMS = ["exp", "iat", "aud", "iss", "sub", "room"]
# The room claim of a dashboard ticket: slugs are [-a-zA-Z0-9_], so no room is called this.
DASHBOARD_ROOM = "*dashboard"


class TokenError(Exception):
    """The token cannot open a room: malformed, forged, expired or not ours."""


@dataclass(frozen=True)
class RoomTicket:
    """What a valid room token grants."""

    user_id: int
    name: str
    room: str
    jti: str
    # The user's ticket generation when it was minted: deactivation and a new
    # password take it up, and the handshake refuses older tickets.
    generation: int = 0
    # The site session that minted it (accounts.sessions): its sockets close when it
    # ends. Empty only for tickets minted outside a session (the benchmark's).
    session: str = ""
    # When the socket must have renewed its ticket (Unix time): the session's
    # expiry or its next provider re-check. None: no deadline (no session).
    until: int | None = None


def issue(
    *,
    user_id: int,
    name: str,
    room: str,
    generation: int = 0,
    session: str = "",
    until: int | None = None,
    now: float | None = None,
) -> str:
    """Mint a room token for one user and one room, in the user's current ticket `generation`.

    `session` and `until` bind the socket to the site session minting it (accounts.sessions).
    """
    issued_at = int(time.time() if now is None else now)
    claims: dict[str, str | int] = {
        "sub": str(user_id),
        "name": name,
        "room": room,
        "aud": AUDIENCE,
        "iss": settings.CHAT_JWT_ISSUER,
        "iat": issued_at,
        "nbf": issued_at,
        "exp": issued_at + settings.CHAT_JWT_TTL,
        "jti": uuid.uuid4().hex,
        "gen": generation,
    }
    if session:
        claims["sid"] = session
    if until is not None:
        claims["until"] = until
    return jwt.encode(claims, settings.CHAT_JWT_SECRET, algorithm=ALGORITHM)


def decode(token: str) -> RoomTicket:
    """Verify a room token and return its ticket, or raise TokenError."""
    if len(token) > MAX_TOKEN_BYTES:
        raise TokenError("token too large")
    try:
        claims = jwt.decode(
            token,
            settings.CHAT_JWT_SECRET,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=settings.CHAT_JWT_ISSUER,
            leeway=LEEWAY_SECONDS,
            options={"require": REQUIRED_CLAIMS, "strict_aud": True},
        )
        return RoomTicket(
            user_id=int(claims["sub"]),
            name=str(claims.get("name", "")),
            room=_require_str(claims["room"]),
            jti=str(claims.get("jti", "")),
            generation=_require_int(claims.get("gen", 0)),
            session=_require_str(claims.get("sid", "")),
            until=None if claims.get("until") is None else _require_int(claims["until"]),
        )
    except (jwt.PyJWTError, ValueError, TypeError) as exc:
        raise TokenError(str(exc)) from exc


def _require_int(value: object) -> int:
    # bool is an int to Python, not to us.
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError("gen and until claims must be whole numbers")
    return value


def _require_str(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError("room and sid claims must be strings")
    return value
