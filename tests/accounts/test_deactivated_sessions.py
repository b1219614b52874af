"""Someone deactivated in the admin loses the site at once, however they signed in."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.services import user_deactivate
from rooms.models import Room
from tests import factories

pytestmark = pytest.mark.django_db

BACKENDS = ["accounts.backends.ProviderBackend", "django.contrib.auth.backends.ModelBackend"]


@pytest.fixture(params=BACKENDS, ids=["openid-connect", "local"])
def deactivated(request) -> Client:
    """A staff member signed in through this backend, then deactivated by an admin mid-session."""
    user = factories.user_create(is_staff=True, display_name="Mallory")
    client = Client()
    client.force_login(user, backend=request.param)
    assert client.get("/rooms/").status_code == 200
    user_deactivate(user=user)
    return client


def test_pages_send_a_deactivated_person_to_sign_in(deactivated):
    """The dashboard and room pages no longer load."""
    for path in ("/rooms/", "/rooms/general/"):
        response = deactivated.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_json_endpoints_answer_401_to_a_deactivated_person(deactivated):
    """No more tickets, history or events."""
    for path in ("/rooms/general/token/", "/rooms/general/messages/", "/rooms/general/events/?since=0"):
        assert deactivated.get(path).status_code == 401


def test_a_deactivated_moderator_can_no_longer_delete_messages(deactivated):
    """A POST (which skips the provider re-check) is refused too, and the message stays."""
    message = factories.message_insert(room=Room.objects.get(slug="general"), author=factories.user_create())

    response = deactivated.post(f"/rooms/general/messages/{message.pk}/delete/")

    assert response.status_code == 401
    message.refresh_from_db()
    assert message.deleted_at is None
