"""The data migrations: the starter rooms, and the event log's seqs for messages stored before it."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from rooms.models import Message, Room


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


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_messages_stored_before_the_event_log_are_numbered_in_id_order_per_room(django_user_model):
    """0004 gives each room's existing messages the seqs 1, 2, 3, … and the room the last of them."""
    executor = MigrationExecutor(connection)
    executor.migrate([("rooms", "0003_room_mute")])
    old = executor.loader.project_state([("rooms", "0003_room_mute")]).apps
    OldRoom, OldMessage = old.get_model("rooms", "Room"), old.get_model("rooms", "Message")
    author = django_user_model.objects.create_user(username="before-the-log")
    general, music = OldRoom.objects.get(slug="general"), OldRoom.objects.get(slug="music")
    for room, text in [(general, "g1"), (music, "m1"), (general, "g2"), (general, "g3")]:
        OldMessage.objects.create(room=room, author_id=author.pk, text=text)

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    numbered = Message.objects.order_by("id").values_list("room__slug", "text", "seq", "changed_seq")
    assert list(numbered) == [
        ("general", "g1", 1, 1),
        ("music", "m1", 1, 1),
        ("general", "g2", 2, 2),
        ("general", "g3", 3, 3),
    ]
    rooms = {room.slug: room for room in Room.objects.all()}
    assert (rooms["general"].seq, rooms["music"].seq, rooms["sports"].seq) == (3, 1, 0)
    assert len({room.epoch for room in rooms.values()}) == len(rooms)
