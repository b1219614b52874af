"""Conversation over HTTP: people for @ completion, authors deleting, earlier texts in the admin."""

from __future__ import annotations

import pytest
from django.test import Client

from rooms import services
from rooms.models import Message, MessageRevision, Room
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def general():
    """The seeded General room."""
    return Room.objects.get(slug="general")


@pytest.fixture
def alice():
    return factories.user_create(username="alice", display_name="Alice Liddell")


@pytest.fixture
def signed_in(client, alice):
    """A browser signed in as Alice."""
    client.force_login(alice)
    return client


def people(client: Client, q: str, room: str = "general") -> list[dict]:
    response = client.get(f"/rooms/{room}/people/", {"q": q})
    assert response.status_code == 200, response.content
    return response.json()["people"]


def handles(client: Client, q: str) -> list[str]:
    return [person["handle"] for person in people(client, q)]


# The people endpoint -----------------------------------------------------------------


def test_people_needs_sign_in(client):
    """Signed out, the endpoint answers 401 JSON."""
    response = client.get("/rooms/general/people/", {"q": "a"})

    assert response.status_code == 401
    assert response.json()["error"] == "not_authenticated"


def test_people_of_an_unknown_or_archived_room_is_404(signed_in):
    """A room that does not exist, or is archived, has no people endpoint."""
    factories.room_create(slug="old", archived=True)

    for slug in ["nowhere", "old"]:
        response = signed_in.get(f"/rooms/{slug}/people/", {"q": "a"})
        assert response.status_code == 404
        assert response.json()["error"] == "not_found"


def test_people_match_a_handle_prefix_in_any_case(signed_in):
    """q is a prefix of usernames, any case; each person comes with id, name and handle."""
    bob = factories.user_create(username="bob", display_name="Bob")
    factories.user_create(username="bobby", display_name="Robert")
    factories.user_create(username="carol", display_name="Carol")

    assert handles(signed_in, "BO") == ["bob", "bobby"]
    assert people(signed_in, "bob")[0] == {"id": bob.pk, "name": "Bob", "handle": "bob"}


def test_people_match_a_display_name_prefix(signed_in):
    """A person is found by the start of their shown name, even when their handle differs."""
    factories.user_create(username="rj", display_name="Robert Jones")
    factories.user_create(username="sam", display_name="Sam")

    assert handles(signed_in, "rob") == ["rj"]
    assert people(signed_in, "Robert")[0]["name"] == "Robert Jones"


def test_people_match_a_later_word_of_a_display_name(signed_in):
    """Typing a surname finds the person whose shown name has it as a word."""
    factories.user_create(username="rj", display_name="Robert Jones")

    assert handles(signed_in, "jon") == ["rj"]


def test_people_ignores_a_leading_at_sign(signed_in):
    """What the box holds after @ is the query: "@bo" matches like "bo"."""
    factories.user_create(username="bob")

    assert handles(signed_in, "@bo") == ["bob"]


def test_people_leave_out_inactive_accounts(signed_in):
    """A deactivated person is never offered."""
    factories.user_create(username="bob")
    factories.user_create(username="bobgone", display_name="Bob Gone", is_active=False)

    assert handles(signed_in, "bob") == ["bob"]


def test_people_answers_at_most_eight(signed_in):
    """However many match, eight come back, by handle."""
    for n in range(12):
        factories.user_create(username=f"pat{n:02}")

    assert handles(signed_in, "pat") == [f"pat{n:02}" for n in range(8)]


def test_people_with_no_match_is_an_empty_list(signed_in):
    """A prefix nobody has answers no one."""
    assert people(signed_in, "zzz") == []


# Deleting from the room page ---------------------------------------------------------


def test_the_author_may_delete_their_message_through_the_endpoint(signed_in, alice, general):
    """Alice's POST deletes her own message for everyone."""
    message = factories.message_insert(room=general, author=alice, text="oops")

    response = signed_in.post(f"/rooms/general/messages/{message.pk}/delete/")

    assert response.status_code == 200
    assert response.json() == {"deleted": message.pk}
    message.refresh_from_db()
    assert message.deleted_at is not None
    assert message.changed_seq == message.seq + 1


def test_someone_elses_message_cannot_be_deleted_by_a_member(signed_in, general):
    """A member who is neither its author nor staff gets 403; the message stays."""
    message = factories.message_insert(room=general, author=factories.user_create(), text="not yours")

    response = signed_in.post(f"/rooms/general/messages/{message.pk}/delete/")

    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"
    message.refresh_from_db()
    assert message.deleted_at is None
    assert message.changed_seq == message.seq


def test_the_history_endpoint_leaves_out_a_message_its_author_deleted(signed_in, alice, general):
    """After the author's delete, the history page neither lists the message nor holds its text."""
    kept = factories.message_insert(room=general, author=alice, text="kept")
    gone = factories.message_insert(room=general, author=alice, text="secret words")
    signed_in.post(f"/rooms/general/messages/{gone.pk}/delete/")

    response = signed_in.get("/rooms/general/messages/")

    assert [m["id"] for m in response.json()["messages"]] == [kept.pk]
    assert "secret words" not in response.content.decode()


def test_the_history_endpoint_shows_edits_and_reactions(signed_in, alice, general):
    """A message in the history page reads as edited, with its reactions."""
    message, _ = services.message_create(room=general, author=alice, text="frist")
    services.message_edit(room=general, message_id=message.pk, editor=alice, text="first")
    bob = factories.user_create(username="bob")
    services.reaction_toggle(room=general, message_id=message.pk, user=bob, emoji="👍")

    [shown] = signed_in.get("/rooms/general/messages/").json()["messages"]

    assert shown["text"] == "first"
    assert shown["edited_at"].endswith("Z")
    assert shown["reactions"] == [{"emoji": "👍", "count": 1, "user_ids": [bob.pk]}]


# The admin ---------------------------------------------------------------------------


def test_admin_shows_the_earlier_text_of_an_edited_message(admin_client, alice, general):
    """A moderator reading an edited message in the admin sees what it said before."""
    message, _ = services.message_create(room=general, author=alice, text="what I first wrote")
    services.message_edit(room=general, message_id=message.pk, editor=alice, text="what it says now")
    assert MessageRevision.objects.filter(message=message).count() == 1

    response = admin_client.get(f"/admin/rooms/message/{message.pk}/change/")

    assert response.status_code == 200
    content = response.content.decode()
    assert "what I first wrote" in content
    assert "what it says now" in content
    assert "earlier texts (edited by the author)" in content.lower()


def test_admin_shows_earlier_texts_read_only(admin_client, alice, general):
    """The earlier texts are shown as text, with no field to change them and no way to add one."""
    message, _ = services.message_create(room=general, author=alice, text="original")
    services.message_edit(room=general, message_id=message.pk, editor=alice, text="edited")
    response = admin_client.get(f"/admin/rooms/message/{message.pk}/change/")
    content = response.content.decode()

    assert "original" in content
    assert 'name="revisions-0-text"' not in content
    assert 'id="revisions-empty"' not in content
    assert list(MessageRevision.objects.values_list("text", flat=True)) == ["original"]
    assert Message.objects.get(pk=message.pk).text == "edited"
