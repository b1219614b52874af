"""Room pages and JSON endpoints, as a browser meets them."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import async_to_sync

from rooms import views
from rooms.models import Room
from rooms.realtime.handshake import tickets
from rooms.realtime.presence.base import Member
from rooms.realtime.process import transport
from tests import factories

pytestmark = pytest.mark.django_db

XSS = "<img src=x onerror=alert(1)>"
BEFORE_INVALID = views.ANCHOR_INVALID % "before"


@pytest.fixture
def user():
    """A signed-up person."""
    return factories.user_create(display_name="Alice")


@pytest.fixture
def general():
    """The seeded General room."""
    return Room.objects.get(slug="general")


@pytest.fixture
def signed_in(client, user):
    """A browser signed in as `user`."""
    client.force_login(user)
    return client


def online(room: str, user_id: int, name: str = "someone") -> None:
    """Put a person in a room, as an open socket would."""
    async_to_sync(transport().presence.join)(
        room=room, member=Member(id=user_id, name=name), connection=f"conn-{room}-{user_id}"
    )


# Sign-in required pages ---------------------------------------------------------------


@pytest.mark.parametrize("path", ["/rooms/", "/rooms/general/"])
def test_pages_redirect_anonymous_browsers_to_login_with_next(client, path):
    """A signed-out visitor is sent to the login page, to come back afterwards."""
    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={path}"


# Dashboard ----------------------------------------------------------------------------


def test_dashboard_lists_the_seeded_rooms(signed_in):
    """The dashboard shows General, Music and Sports with links to enter them."""
    response = signed_in.get("/rooms/")

    assert response.status_code == 200
    content = response.content.decode()
    for name, slug in [("General", "general"), ("Music", "music"), ("Sports", "sports")]:
        assert name in content
        assert f'href="/rooms/{slug}/"' in content


def dashboard_online(client) -> dict[str, int]:
    """How many people the dashboard page says are in each room."""
    return {room["slug"]: room["online"] for room in client.get("/rooms/").context["rooms"]}


def test_dashboard_shows_how_many_people_are_in_each_room(signed_in, user):
    """Each room card shows its online count."""
    online("general", user.pk)
    online("general", 999_001)
    online("music", 999_002)

    shown = dashboard_online(signed_in)

    assert (shown["general"], shown["music"], shown["sports"]) == (2, 1, 0)


def test_dashboard_counts_a_person_with_two_tabs_once(signed_in, user):
    """Two connections of the same person count as one person online."""
    presence = transport().presence
    async_to_sync(presence.join)(room="general", member=Member(id=user.pk, name="Alice"), connection="tab-1")
    async_to_sync(presence.join)(room="general", member=Member(id=user.pk, name="Alice"), connection="tab-2")

    assert dashboard_online(signed_in)["general"] == 1


def test_dashboard_hides_archived_rooms(signed_in):
    """An archived room is not on the dashboard."""
    factories.room_create(slug="old-news", name="Old News", archived=True)

    content = signed_in.get("/rooms/").content.decode()

    assert "Old News" not in content
    assert "/rooms/old-news/" not in content


# Room page ----------------------------------------------------------------------------


def test_room_page_shows_its_recent_history(signed_in, user, general):
    """Entering a room shows its name and the latest messages, server-rendered."""
    factories.message_insert(room=general, author=user, text="first words")
    factories.message_insert(room=general, author=user, text="second words")

    response = signed_in.get("/rooms/general/")

    assert response.status_code == 200
    content = response.content.decode()
    assert "<h1>General</h1>" in content
    assert content.index("first words") < content.index("second words")
    assert "Alice" in content


def test_room_page_hides_deleted_messages(signed_in, user, general):
    """A message a moderator deleted is not in the page's history."""
    factories.message_insert(room=general, author=user, text="still here")
    gone = factories.message_insert(room=general, author=user, text="moderated away")
    gone.deleted_at = gone.created_at
    gone.save(update_fields=["deleted_at"])

    content = signed_in.get("/rooms/general/").content.decode()

    assert "still here" in content
    assert "moderated away" not in content


def page_history(content: str) -> list[dict]:
    """The messages a room page hands its script (the json_script #room-history)."""
    start = content.index('<script id="room-history" type="application/json">')
    body = content[content.index(">", start) + 1 : content.index("</script>", start)]
    return json.loads(body)


def test_room_page_escapes_markup_in_messages(signed_in, user, general):
    """A message containing HTML is shown as text, never as markup."""
    factories.message_insert(room=general, author=user, text=XSS)

    content = signed_in.get("/rooms/general/").content.decode()

    # The page hands its history to the script as JSON, with < and > escaped
    # so that nothing in it can end the script element or start a tag.
    assert XSS not in content
    assert "\\u003Cimg src=x onerror=alert(1)\\u003E" in content
    assert [m["text"] for m in page_history(content)] == [XSS]


def test_room_page_escapes_markup_in_display_names(client, general):
    """A display name containing HTML is shown as text, never as markup."""
    author = factories.user_create(display_name=XSS)
    factories.message_insert(room=general, author=author, text="hi")
    client.force_login(author)

    content = client.get("/rooms/general/").content.decode()

    assert XSS not in content
    assert "&lt;img src=x onerror=alert(1)&gt;" in content


def test_room_page_is_404_for_an_unknown_room(signed_in):
    """A room that does not exist is not found."""
    assert signed_in.get("/rooms/no-such-room/").status_code == 404


def test_room_page_is_404_for_an_archived_room(signed_in):
    """An archived room can no longer be entered."""
    archived = factories.room_create(archived=True)

    assert signed_in.get(f"/rooms/{archived.slug}/").status_code == 404


# JSON endpoints -----------------------------------------------------------------------

JSON_ENDPOINTS = ["/rooms/{slug}/token/", "/rooms/{slug}/messages/"]


@pytest.mark.parametrize("path", [*JSON_ENDPOINTS, "/rooms/online.json"])
def test_json_endpoint_answers_401_json_when_signed_out(client, path):
    """A signed-out client gets 401 JSON, not a redirect to the login page."""
    response = client.get(path.format(slug="general"))

    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"] == "not_authenticated"


@pytest.mark.parametrize("path", JSON_ENDPOINTS)
@pytest.mark.parametrize("archived", [False, True], ids=["unknown", "archived"])
def test_json_endpoint_answers_404_json_for_an_unknown_or_archived_room(signed_in, path, archived):
    """A room that does not exist, or was archived, is 404 JSON."""
    slug = factories.room_create(archived=True).slug if archived else "no-such-room"

    response = signed_in.get(path.format(slug=slug))

    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


# Token endpoint -----------------------------------------------------------------------


def test_token_endpoint_gives_a_ticket_for_this_user_and_room(signed_in, user, settings):
    """A signed-in user gets a token for this room, its lifetime and where to connect."""
    response = signed_in.get("/rooms/music/token/")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"token", "expires_in", "ws_url"}
    assert body["expires_in"] == settings.CHAT_JWT_TTL == 60
    assert body["ws_url"] == "/ws/rooms/music/"
    ticket = tickets.decode(body["token"])
    assert ticket.user_id == user.pk
    assert ticket.name == "Alice"
    assert ticket.room == "music"


def test_token_endpoint_is_never_cached(signed_in):
    """Tokens must not be stored by the browser or a proxy."""
    cache_control = signed_in.get("/rooms/general/token/")["Cache-Control"]

    assert "no-store" in cache_control or "no-cache" in cache_control


def test_token_endpoint_refuses_post(signed_in):
    """The token endpoint only answers GET."""
    assert signed_in.post("/rooms/general/token/").status_code in {403, 405}


# History endpoint ---------------------------------------------------------------------


def test_history_endpoint_gives_newest_last(signed_in, user, general):
    """The history page lists messages oldest first, newest last."""
    messages = factories.messages_insert(room=general, author=user, count=3)

    body = signed_in.get("/rooms/general/messages/").json()

    assert [m["id"] for m in body["messages"]] == [m.pk for m in messages]
    assert body["messages"][-1]["text"] == "m3"
    assert body["has_more"] is False


def test_history_endpoint_limit_and_has_more(signed_in, user, general):
    """`limit` gives the newest n messages and has_more says older ones exist."""
    messages = factories.messages_insert(room=general, author=user, count=5)

    body = signed_in.get("/rooms/general/messages/?limit=2").json()

    assert [m["id"] for m in body["messages"]] == [m.pk for m in messages[3:]]
    assert body["has_more"] is True


def test_history_endpoint_caps_limit_at_100(signed_in, user, general):
    """Asking for more than 100 messages gives 100."""
    messages = factories.messages_insert(room=general, author=user, count=105)

    body = signed_in.get("/rooms/general/messages/?limit=500").json()

    assert [m["id"] for m in body["messages"]] == [m.pk for m in messages[5:]]
    assert body["has_more"] is True


def test_history_endpoint_pages_back_with_before(signed_in, user, general):
    """`before` gives the page just older than that message, then has_more turns False."""
    messages = factories.messages_insert(room=general, author=user, count=5)

    first_page = signed_in.get(f"/rooms/general/messages/?before={messages[3].pk}&limit=2").json()
    last_page = signed_in.get(f"/rooms/general/messages/?before={messages[1].pk}&limit=2").json()

    assert [m["id"] for m in first_page["messages"]] == [messages[1].pk, messages[2].pk]
    assert first_page["has_more"] is True
    assert [m["id"] for m in last_page["messages"]] == [messages[0].pk]
    assert last_page["has_more"] is False


def test_history_endpoint_hides_deleted_messages(signed_in, user, general):
    """Deleted messages are not in the history page."""
    kept, gone = factories.messages_insert(room=general, author=user, count=2)
    gone.deleted_at = gone.created_at
    gone.save(update_fields=["deleted_at"])

    body = signed_in.get("/rooms/general/messages/").json()

    assert [m["id"] for m in body["messages"]] == [kept.pk]


@pytest.mark.parametrize(
    ("query", "detail"),
    [
        ("limit=abc", views.LIMIT_INVALID),
        ("limit=0", views.LIMIT_INVALID),
        ("limit=-5", views.LIMIT_INVALID),
        ("limit=2e3", views.LIMIT_INVALID),
        ("limit=%D9%A1%D9%A2", views.LIMIT_INVALID),  # Arabic-Indic "12": int() would take it
        ("before=-1", BEFORE_INVALID),
        ("before=abc", BEFORE_INVALID),
        ("before=1.5", BEFORE_INVALID),
        ("before=%C2%B2", BEFORE_INVALID),  # "²": isdigit() says yes, int() raises
        ("after=0", views.ANCHOR_INVALID % "after"),
        ("around=x", views.ANCHOR_INVALID % "around"),
        ("before=3&after=1", views.ANCHORS_EXCLUSIVE),
        ("around=3&before=1", views.ANCHORS_EXCLUSIVE),
    ],
)
def test_history_endpoint_answers_400_json_for_bad_paging(signed_in, query, detail):
    """Nonsense `before`, `after`, `around` or `limit`, or two anchors at once: 400 JSON, a fixed message."""
    response = signed_in.get(f"/rooms/general/messages/?{query}")

    assert response.status_code == 400
    assert response.json() == {"error": "invalid", "detail": detail}


def test_history_around_a_message_gives_its_neighbours_both_sides(signed_in, user, general):
    """`around` (a search result far back): the message amid those before and after it, and what is past."""
    messages = factories.messages_insert(room=general, author=user, count=9)

    body = signed_in.get(f"/rooms/general/messages/?around={messages[4].pk}&limit=5").json()

    assert [m["id"] for m in body["messages"]] == [m.pk for m in messages[2:7]]
    assert (body["has_more"], body["has_newer"]) == (True, True)


def test_history_around_a_message_near_the_start_fills_the_page_with_newer_ones(signed_in, user, general):
    """With no older messages to show, the page holds more newer ones; near the latest, has_newer is False."""
    messages = factories.messages_insert(room=general, author=user, count=6)

    first = signed_in.get(f"/rooms/general/messages/?around={messages[0].pk}&limit=4").json()
    last = signed_in.get(f"/rooms/general/messages/?around={messages[5].pk}&limit=4").json()

    assert [m["id"] for m in first["messages"]] == [m.pk for m in messages[:4]]
    assert (first["has_more"], first["has_newer"]) == (False, True)
    assert [m["id"] for m in last["messages"]] == [m.pk for m in messages[4:]]
    assert (last["has_more"], last["has_newer"]) == (True, False)


def test_history_around_a_deleted_or_foreign_message_is_404(signed_in, user, general):
    """A message deleted since the search, or one of another room, is not found here."""
    gone, _kept = factories.messages_insert(room=general, author=user, count=2)
    gone.deleted_at = gone.created_at
    gone.save(update_fields=["deleted_at"])
    elsewhere = factories.messages_insert(room=Room.objects.get(slug="sports"), author=user, count=1)[0]

    for message_id in (gone.pk, elsewhere.pk):
        response = signed_in.get(f"/rooms/general/messages/?around={message_id}")
        assert response.status_code == 404
        assert response.json() == {"error": "not_found", "detail": views.MESSAGE_NOT_FOUND}


def test_history_after_pages_forward_to_the_latest(signed_in, user, general):
    """`after` gives the next newer page, skipping deleted messages, until has_newer turns False."""
    messages = factories.messages_insert(room=general, author=user, count=6)
    messages[3].deleted_at = messages[3].created_at
    messages[3].save(update_fields=["deleted_at"])

    first = signed_in.get(f"/rooms/general/messages/?after={messages[0].pk}&limit=3").json()
    rest = signed_in.get(f"/rooms/general/messages/?after={first['messages'][-1]['id']}&limit=3").json()

    assert [m["id"] for m in first["messages"]] == [messages[1].pk, messages[2].pk, messages[4].pk]
    assert first["has_newer"] is True
    assert [m["id"] for m in rest["messages"]] == [messages[5].pk]
    assert rest["has_newer"] is False


def test_history_endpoint_caps_huge_numbers(signed_in, user, general):
    """A `before` or `limit` past any bigint is capped, not an error."""
    messages = factories.messages_insert(room=general, author=user, count=2)
    huge = "9" * 5000

    body = signed_in.get(f"/rooms/general/messages/?before={huge}&limit={huge}").json()

    assert [m["id"] for m in body["messages"]] == [m.pk for m in messages]


# Online counts ------------------------------------------------------------------------


def test_online_counts_list_every_active_room(signed_in, user):
    """The dashboard's live counts cover every active room and no archived one."""
    factories.room_create(slug="old-news", archived=True)
    online("sports", user.pk)

    body = signed_in.get("/rooms/online.json").json()

    assert body == {"rooms": {"general": 0, "music": 0, "sports": 1}}
