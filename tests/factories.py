"""Test data in one place."""

from __future__ import annotations

import itertools
import time

import jwt
from django.conf import settings
from django.contrib.auth import get_user_model

from rooms.models import Message, Room
from rooms.realtime.handshake import tickets

_numbers = itertools.count(1)
PASSWORD = "correct horse battery staple"


def user_create(*, username: str | None = None, display_name: str = "", **fields):
    """A local account whose password is PASSWORD."""
    username = username or f"user{next(_numbers)}"
    return get_user_model().objects.create_user(
        username=username, password=PASSWORD, display_name=display_name, **fields
    )


def room_create(*, slug: str | None = None, name: str | None = None, **fields) -> Room:
    """A room besides the seeded ones."""
    slug = slug or f"room-{next(_numbers)}"
    return Room.objects.create(slug=slug, name=name or slug.title(), **fields)


def message_insert(*, room: Room, author, text: str = "hello", **fields) -> Message:
    """A stored message, bypassing the services' validation (for history set-ups)."""
    return Message.objects.create(room=room, author=author, text=text, **fields)


def messages_insert(*, room: Room, author, count: int) -> list[Message]:
    """`count` stored messages in id order, texts "m1", "m2", …."""
    return Message.objects.bulk_create(
        [Message(room=room, author=author, text=f"m{n}") for n in range(1, count + 1)]
    )


def token_claims(*, user_id: int, name: str, room: str = "general", **changes) -> dict:
    """A valid room-token claim set, with changes (a change to None removes that claim)."""
    now = int(time.time())
    claims = {
        "sub": str(user_id),
        "name": name,
        "room": room,
        "aud": tickets.AUDIENCE,
        "iss": settings.CHAT_JWT_ISSUER,
        "iat": now,
        "nbf": now,
        "exp": now + 60,
        "jti": "abc123",
    }
    claims.update(changes)
    return {key: value for key, value in claims.items() if value is not None}


def token_sign(claims: dict, *, key: str | None = None, algorithm: str = "HS256") -> str:
    """Sign a claim set the way an attacker or a sloppy client might."""
    return jwt.encode(claims, key or settings.CHAT_JWT_SECRET, algorithm=algorithm)
