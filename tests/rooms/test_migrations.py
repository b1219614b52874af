"""The data migration that seeds the starter rooms."""

from __future__ import annotations

import pytest

from rooms.models import Room


@pytest.mark.django_db
def test_seeded_rooms_exist_after_migrations():
    """General, Sports and Music are there after migrate, active."""
    rooms = {room.slug: room for room in Room.objects.filter(slug__in=["general", "sports", "music"])}

    assert {slug: room.name for slug, room in rooms.items()} == {
        "general": "General",
        "sports": "Sports",
        "music": "Music",
    }
    assert not any(room.archived for room in rooms.values())
    assert all(room.description for room in rooms.values())
