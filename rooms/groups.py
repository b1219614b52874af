"""Channel-layer group names: [a-zA-Z0-9-_.], under 100 characters."""

from __future__ import annotations


def room_group(slug: str) -> str:
    """The group every socket in a room joins."""
    return f"room.{slug}"


def user_group(user_id: int) -> str:
    """The group every socket of one user joins, so sign-out can close them all."""
    return f"user.{user_id}"
