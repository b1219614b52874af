"""Room and Message admin: moderators manage rooms and remove messages."""

from __future__ import annotations

import pytest

from rooms.models import Message, Room
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def room():
    """A room besides the seeded ones."""
    return factories.room_create(slug="book-club", name="Book Club", description="Reading together.")


@pytest.fixture
def message(room):
    """A message in that room."""
    return factories.message_insert(
        room=room, author=factories.user_create(username="carol"), text="chapter 3!"
    )


def test_room_changelist_lists_rooms(admin_client, room):
    """The room list shows seeded and new rooms."""
    response = admin_client.get("/admin/rooms/room/")

    assert response.status_code == 200
    content = response.content.decode()
    assert "Book Club" in content
    assert "General" in content


def test_room_change_page_loads(admin_client, room):
    """A room's edit page opens with its fields filled in."""
    response = admin_client.get(f"/admin/rooms/room/{room.pk}/change/")

    assert response.status_code == 200
    assert "Reading together." in response.content.decode()


def test_room_add_page_loads(admin_client):
    """The page to create a room opens."""
    assert admin_client.get("/admin/rooms/room/add/").status_code == 200


def test_room_search_finds_by_name(admin_client, room):
    """Searching rooms narrows the list to matches."""
    response = admin_client.get("/admin/rooms/room/", {"q": "book"})

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [room]


def test_message_changelist_lists_messages(admin_client, message):
    """The message list shows messages with their author."""
    response = admin_client.get("/admin/rooms/message/")

    assert response.status_code == 200
    content = response.content.decode()
    assert "chapter 3!" in content
    assert "carol" in content


def test_message_change_page_loads(admin_client, message):
    """A message's page opens."""
    response = admin_client.get(f"/admin/rooms/message/{message.pk}/change/")

    assert response.status_code == 200
    assert "chapter 3!" in response.content.decode()


def test_message_search_finds_by_text_and_author(admin_client, message, room):
    """Searching messages matches their text and their author's username."""
    other = factories.message_insert(room=room, author=factories.user_create(username="dave"), text="nothing")

    by_text = admin_client.get("/admin/rooms/message/", {"q": "chapter"})
    by_author = admin_client.get("/admin/rooms/message/", {"q": "dave"})

    assert list(by_text.context["cl"].result_list) == [message]
    assert list(by_author.context["cl"].result_list) == [other]


def test_message_changelist_filters_deleted_messages(admin_client, message, room):
    """Moderators can list only the messages still visible."""
    gone = factories.message_insert(room=room, author=message.author, text="removed")
    gone.deleted_at = gone.created_at
    gone.save(update_fields=["deleted_at"])  # a plain save() leaves the log's columns alone

    response = admin_client.get("/admin/rooms/message/", {"deleted_at__isempty": "1"})

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [message]


def test_archive_rooms_action_archives_the_room(admin_client, room):
    """The "archive" action takes the room off the dashboard."""
    response = admin_client.post(
        "/admin/rooms/room/", {"action": "archive_rooms", "_selected_action": [room.pk]}, follow=True
    )

    assert response.status_code == 200
    assert "Archived." in response.content.decode()
    assert Room.objects.get(pk=room.pk).archived is True
    assert Room.objects.get(slug="general").archived is False


def test_delete_for_everyone_action_sets_deleted_at(admin_client, message, room):
    """The "delete for everyone" action hides the message but keeps its row."""
    other = factories.message_insert(room=room, author=message.author, text="stays")

    response = admin_client.post(
        "/admin/rooms/message/",
        {"action": "delete_for_everyone", "_selected_action": [message.pk]},
        follow=True,
    )

    assert response.status_code == 200
    assert "Deleted." in response.content.decode()
    assert Message.objects.get(pk=message.pk).deleted_at is not None
    assert Message.objects.get(pk=other.pk).deleted_at is None


def test_unticking_archived_in_the_change_form_reopens_the_room(admin_client):
    """An archived room saved with "archived" unticked is active again."""
    closed = factories.room_create(slug="old-news", name="Old News", archived=True)

    response = admin_client.post(
        f"/admin/rooms/room/{closed.pk}/change/", factories.room_change_form(closed, archived=None)
    )

    assert response.status_code == 302
    assert Room.objects.get(pk=closed.pk).archived is False


@pytest.mark.parametrize("model", ["room", "message"])
def test_rooms_and_messages_cannot_be_hard_deleted(admin_client, message, model):
    """The delete page is forbidden: rooms are archived, messages deleted for everyone."""
    pk = message.room_id if model == "room" else message.pk

    response = admin_client.get(f"/admin/rooms/{model}/{pk}/delete/")

    assert response.status_code == 403
    assert Room.objects.filter(pk=message.room_id).exists()
    assert Message.objects.filter(pk=message.pk).exists()


@pytest.mark.parametrize(("model", "action"), [("room", "archive_rooms"), ("message", "delete_for_everyone")])
def test_bulk_delete_action_is_replaced_by_the_safe_one(admin_client, message, model, action):
    """The changelist offers the archive / delete-for-everyone action, not "delete selected"."""
    response = admin_client.get(f"/admin/rooms/{model}/")

    actions = [name for name, _label in response.context["action_form"].fields["action"].choices]
    assert action in actions
    assert "delete_selected" not in actions


def test_admin_is_closed_to_people_who_are_not_staff(client):
    """A signed-in non-staff user cannot open the room admin."""
    client.force_login(factories.user_create())

    response = client.get("/admin/rooms/room/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_message_admin_cannot_add_or_rewrite_messages(admin_client, message):
    """Moderators read and delete messages; they cannot write one or change what someone said."""
    assert admin_client.get("/admin/rooms/message/add/").status_code == 403
    admin_client.post(f"/admin/rooms/message/{message.pk}/change/", {"text": "forged words"})
    message.refresh_from_db()
    assert message.text == "chapter 3!"
