"""The room page's delete control: staff only, CSRF protected."""

from __future__ import annotations

import pytest
from django.test import Client

from rooms.models import Message, Room
from tests.factories import message_insert, user_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def message():
    return message_insert(room=Room.objects.get(slug="general"), author=user_create(), text="hello")


def test_staff_see_delete_controls_and_others_do_not(client, message):
    """Only staff get the page that offers Delete on everyone's messages (others, on their own)."""
    client.force_login(user_create())
    assert 'data-moderator="1"' not in client.get("/rooms/general/").content.decode()
    client.force_login(user_create(is_staff=True))
    assert 'data-moderator="1"' in client.get("/rooms/general/").content.decode()


def test_non_staff_cannot_delete(client, message):
    """A member's delete request is refused with 403 JSON and nothing changes."""
    client.force_login(user_create())
    response = client.post(f"/rooms/general/messages/{message.pk}/delete/")
    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"
    message.refresh_from_db()
    assert message.deleted_at is None


def test_delete_needs_sign_in_post_and_csrf(message):
    """Anonymous → 401 JSON, GET → 405, no CSRF token → 403."""
    assert Client().post(f"/rooms/general/messages/{message.pk}/delete/").status_code == 401
    staff = Client(enforce_csrf_checks=True)
    staff.force_login(user_create(is_staff=True))
    assert staff.get(f"/rooms/general/messages/{message.pk}/delete/").status_code == 405
    assert staff.post(f"/rooms/general/messages/{message.pk}/delete/").status_code == 403
    assert Message.objects.get(pk=message.pk).deleted_at is None


def test_delete_of_a_message_of_another_room_is_404(client, message):
    """A message id is only found in its own room."""
    client.force_login(user_create(is_staff=True))
    assert client.post(f"/rooms/sports/messages/{message.pk}/delete/").status_code == 404
