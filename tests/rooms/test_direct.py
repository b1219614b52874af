"""Direct messages: a private room of two, opened from the dashboard or the people list."""

from __future__ import annotations

import pytest
from django.test import Client

from rooms.direct import CANNOT_MESSAGE_YOURSELF, NO_SUCH_PERSON, direct_room_open
from rooms.models import Room, RoomKind
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice():
    return factories.user_create(username="alice", display_name="Alice")


@pytest.fixture
def bob():
    return factories.user_create(username="bob", display_name="Bob")


def test_opening_a_conversation_by_handle_makes_one_room_both_find_again(alice, bob):
    """Alice writes @Bob's handle: a direct room of the two; Bob opening it from his side gets the same."""
    first = factories.browser_signed_in(alice).post("/rooms/direct.new", {"handle": "@BOB"})
    again = factories.browser_signed_in(bob).post("/rooms/direct.new", {"user": alice.pk})

    room = Room.objects.get(kind=RoomKind.DIRECT)
    assert first.status_code == again.status_code == 302
    assert first.url == again.url == f"/rooms/{room.slug}/"
    assert set(room.members.values_list("user__username", flat=True)) == {"alice", "bob"}


def test_each_of_the_two_sees_the_room_named_after_the_other(alice, bob):
    """Alice's page says Bob, Bob's says Alice."""
    room = direct_room_open(user=alice, other=bob)

    assert "<h1>Bob</h1>" in factories.browser_signed_in(alice).get(f"/rooms/{room.slug}/").content.decode()
    assert "<h1>Alice</h1>" in factories.browser_signed_in(bob).get(f"/rooms/{room.slug}/").content.decode()


def test_a_third_person_cannot_open_someone_elses_conversation(alice, bob):
    """Carol gets the page of an unknown room."""
    room = direct_room_open(user=alice, other=bob)
    carol = factories.user_create(username="carol")

    assert factories.browser_signed_in(carol).get(f"/rooms/{room.slug}/").status_code == 404
    assert factories.browser_signed_in(carol).get(f"/rooms/{room.slug}/token/").status_code == 404


def test_the_dashboard_lists_direct_messages_apart_with_the_unread_count(alice, bob):
    """Bob's two messages are unread for Alice, who never opened the conversation, under "Direct messages"."""
    room = direct_room_open(user=bob, other=alice)
    factories.message_insert(room=room, author=bob, text="hi Alice")
    factories.message_insert(room=room, author=bob, text="are you there?")

    page = factories.browser_signed_in(alice).get("/rooms/")

    assert [entry["slug"] for entry in page.context["rooms"]] == ["general", "music", "sports"]
    (entry,) = page.context["direct"]
    assert (entry["slug"], entry["name"], entry["unread"]) == (room.slug, "Bob", 2)
    assert "Direct messages" in page.content.decode()


@pytest.mark.parametrize(
    ("form", "refusal"),
    [
        ({"handle": "alice"}, CANNOT_MESSAGE_YOURSELF),
        ({"handle": "nobody"}, NO_SUCH_PERSON),
        ({}, NO_SUCH_PERSON),
    ],
)
def test_a_conversation_with_yourself_or_no_one_is_refused_with_a_reason(alice, form, refusal):
    """Back to the dashboard, which says why; no room is made."""
    response = factories.browser_signed_in(alice).post("/rooms/direct.new", form, follow=True)

    assert response.redirect_chain == [("/rooms/", 302)]
    assert refusal in response.content.decode()
    assert not Room.objects.filter(kind=RoomKind.DIRECT).exists()


def test_a_deactivated_person_cannot_be_messaged(alice, bob):
    """Bob left the company: no conversation with him is opened."""
    bob.is_active = False
    bob.save()

    response = factories.browser_signed_in(alice).post("/rooms/direct.new", {"user": bob.pk}, follow=True)

    assert NO_SUCH_PERSON in response.content.decode()
    assert not Room.objects.filter(kind=RoomKind.DIRECT).exists()


def test_opening_a_conversation_needs_a_post_and_a_sign_in(alice):
    """GET is not allowed; a signed-out POST goes to the sign-in page."""
    assert factories.browser_signed_in(alice).get("/rooms/direct.new").status_code == 405
    response = Client().post("/rooms/direct.new", {"handle": "alice"})
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


def test_people_to_message_never_include_yourself(alice, bob):
    """The dashboard's suggestions for "Message someone" list Bob, not Alice."""
    found = factories.browser_signed_in(alice).get("/rooms/people.json", {"q": ""}).json()["people"]

    assert [person["handle"] for person in found] == ["bob"]
