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
    # The user's ticket generation when it was minted: sign-out, deactivation
    # and a new password take it up, and the handshake refuses older tickets.
    generation: int = 0


def issue(*, user_id: int, name: str, room: str, generation: int = 0, now: float | None = None) -> str:
    """Mint a room token for one user and one room, in the user's current ticket `generation`."""
    issued_at = int(time.time() if now is None else now)
    claims = {
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
        )
    except (jwt.PyJWTError, ValueError, TypeError) as exc:
        raise TokenError(str(exc)) from exc


def _require_int(value: object) -> int:
    # bool is an int to Python, not to us.
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError("gen claim must be a whole number")
    return value


def _require_str(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError("room claim must be a string")
    return value
