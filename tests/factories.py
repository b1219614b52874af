"""Test data in one place."""

from __future__ import annotations

import itertools
import time

import jwt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import Client

from rooms.models import Message, Room
from rooms.realtime.handshake import tickets
from rooms.services import room_seq_next

_numbers = itertools.count(1)
PASSWORD = "correct horse battery staple"


def user_create(*, username: str | None = None, display_name: str = "", **fields):
    """A local account whose password is PASSWORD."""
    username = username or f"user{next(_numbers)}"
    return get_user_model().objects.create_user(
        username=username, password=PASSWORD, display_name=display_name, **fields
    )


def browser_signed_in(user) -> Client:
    """A test browser with a session of its own, signed in as `user`."""
    client = Client()
    client.force_login(user)
    return client


def room_create(*, slug: str | None = None, name: str | None = None, **fields) -> Room:
    """A room besides the seeded ones."""
    slug = slug or f"room-{next(_numbers)}"
    return Room.objects.create(slug=slug, name=name or slug.title(), **fields)


def message_insert(*, room: Room, author, text: str = "hello", **fields) -> Message:
    """A stored message with the room's next seq, bypassing the services' validation (for set-ups)."""
    with transaction.atomic():
        seq = room_seq_next(room=room)
        return Message.objects.create(room=room, author=author, text=text, seq=seq, changed_seq=seq, **fields)


def messages_insert(*, room: Room, author, count: int) -> list[Message]:
    """`count` stored messages in id and seq order, texts "m1", "m2", …."""
    with transaction.atomic():
        first = room_seq_next(room=room, count=count) - count + 1
        messages = [
            Message(room=room, author=author, text=f"m{n}", seq=first + n - 1, changed_seq=first + n - 1)
            for n in range(1, count + 1)
        ]
        return Message.objects.bulk_create(messages)


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


def room_change_form(room: Room, **changes) -> dict:
    """The admin change form of `room` as a browser posts it unchanged (no inline rows), with `changes`."""
    form = {"name": room.name, "slug": room.slug, "description": room.description, "kind": room.kind}
    if room.archived:
        form["archived"] = "on"
    for prefix in ("members", "group_grants"):
        form.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    form.update(changes)
    return {key: value for key, value in form.items() if value is not None}
