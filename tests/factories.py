"""Test data in one place."""

from __future__ import annotations

import itertools

from django.contrib.auth import get_user_model

from rooms.models import Message, Room

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


def message_create(*, room: Room, author, text: str = "hello", **fields) -> Message:
    """A stored message, bypassing validation (for history set-ups)."""
    return Message.objects.create(room=room, author=author, text=text, **fields)
