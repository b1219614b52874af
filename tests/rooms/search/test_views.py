"""GET /search/: JSON for the search box, refused as the other JSON endpoints refuse."""

from __future__ import annotations

import pytest

from rooms.models import Room, RoomKind, RoomMember
from rooms.search.limit import search_limits_reset
from rooms.search.query import QUERY_MAX_LENGTH
from tests import factories

# Transactional: the view searches on a worker thread of its own, whose connection sees only what
# is committed (serialized_rollback keeps the seeded rooms a flush would wipe).
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture(autouse=True)
def fresh_search_counts(shared_state):
    """Every test starts with no searches counted (shared_state empties Redis on the services pass)."""
    search_limits_reset()
    yield
    search_limits_reset()


@pytest.fixture
def user():
    return factories.user_create(username="alice", display_name="Alice")


@pytest.fixture
def signed_in(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def general():
    return Room.objects.get(slug="general")


def test_signed_out_gets_401_json(client):
    """As every JSON endpoint: no redirect to a sign-in page a script cannot follow."""
    response = client.get("/search/", {"q": "hello"})

    assert response.status_code == 401
    assert response.json()["error"] == "not_authenticated"


def test_finds_messages_with_their_parts(signed_in, user, general):
    """The page gets results newest first, each with its room and its text in marked parts."""
    factories.message_insert(room=general, author=user, text="ship it today")
    factories.message_insert(room=general, author=user, text="ship it tomorrow")

    response = signed_in.get("/search/", {"q": "ship today"})

    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")
    body = response.json()
    assert (body["page"], body["has_more"]) == (1, False)
    (result,) = body["results"]
    assert (result["text"], result["room"], result["room_name"]) == ("ship it today", "general", "General")
    assert [part for part in result["parts"] if part["match"]] == [
        {"text": "ship", "match": True},
        {"text": "today", "match": True},
    ]


def test_parameters_filter_as_the_query_does(signed_in, user, general):
    """room=, from=, before= and after= narrow as in:, from:, before: and after: do."""
    other = factories.room_create(slug="ops")
    factories.message_insert(room=general, author=user, text="backup done")
    factories.message_insert(room=other, author=user, text="backup failed")

    by_room = signed_in.get("/search/", {"q": "backup", "room": "ops"}).json()["results"]
    by_person = signed_in.get("/search/", {"q": "backup", "from": "someone-else"}).json()["results"]
    too_early = signed_in.get("/search/", {"q": "backup", "before": "2020-01-01"}).json()["results"]

    assert [r["text"] for r in by_room] == ["backup failed"]
    assert by_person == []
    assert too_early == []


def test_a_private_room_answers_as_no_results_not_as_an_error(signed_in, user):
    """in: a room one may not read finds nothing, exactly as a room that does not exist."""
    secret = factories.room_create(slug="secret", kind=RoomKind.PRIVATE)
    factories.message_insert(room=secret, author=factories.user_create(), text="hidden plans")

    hidden = signed_in.get("/search/", {"q": "plans", "room": "secret"})
    unknown = signed_in.get("/search/", {"q": "plans", "room": "no-such-room"})

    assert hidden.status_code == unknown.status_code == 200
    assert hidden.json() == unknown.json() == {"results": [], "page": 1, "has_more": False}
    RoomMember.objects.create(room=secret, user=user)  # the same search, from inside
    assert [
        r["text"] for r in signed_in.get("/search/", {"q": "plans", "room": "secret"}).json()["results"]
    ] == ["hidden plans"]


@pytest.mark.parametrize(
    ("params", "code", "detail"),
    [
        ({"q": "a"}, "too_short", "at least 2 letters"),
        ({"q": ""}, "too_short", "at least 2 letters"),
        ({"q": "x" * (QUERY_MAX_LENGTH + 1)}, "too_long", f"at most {QUERY_MAX_LENGTH} characters"),
        ({"q": "hello before:yesterday"}, "invalid_search", "before must be a date"),
        ({"q": "hello before:2026-W48-2"}, "invalid_search", "before must be a date"),
        ({"q": "hello", "after": "2026-02-30"}, "invalid_search", "after must be a date"),
        ({"q": "hello", "page": "0"}, "invalid", "page must be a whole number from 1 to 50"),
        ({"q": "hello", "page": "two"}, "invalid", "page must be a whole number from 1 to 50"),
        ({"q": "hello", "page": "51"}, "invalid", "page must be a whole number from 1 to 50"),
    ],
)
def test_a_search_that_cannot_run_gets_400_with_the_reason(signed_in, params, code, detail):
    """Too short, too long, a bad date or page: 400 JSON saying what to change."""
    response = signed_in.get("/search/", params)

    assert response.status_code == 400
    assert response.json()["error"] == code
    assert detail in response.json()["detail"]


def test_searching_too_fast_gets_429_with_retry_after(settings, signed_in, user, client):
    """Past CHAT_SEARCH_RATE_LIMIT a minute, 429 with when to try again; another person is not slowed."""
    settings.CHAT_SEARCH_RATE_LIMIT = 3
    settings.CHAT_SEARCH_RATE_WINDOW = 60.0
    for _ in range(3):
        assert signed_in.get("/search/", {"q": "hello"}).status_code == 200

    refused = signed_in.get("/search/", {"q": "hello"})

    assert refused.status_code == 429
    assert refused.json()["error"] == "rate_limited"
    assert 59 <= int(refused["Retry-After"]) <= 60
    other = factories.browser_signed_in(factories.user_create())
    assert other.get("/search/", {"q": "hello"}).status_code == 200


def test_only_get_is_answered(signed_in):
    """A search changes nothing: POST is 405."""
    assert signed_in.post("/search/", {"q": "hello"}).status_code == 405
