"""The dashboard socket (rooms.realtime.dashboard) over the real ASGI stack: who may open it, what it says.

Its ticket has the room claim tickets.DASHBOARD_ROOM; the welcome lists the
active rooms with this person's counts; after it, `rooms` frames carry the
rooms the activity ticker named (at most once an ACTIVITY_INTERVAL) or that
the person read in another tab.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.test import Client
from django.utils import timezone

from accounts.services import user_tickets_revoke
from rooms import services
from rooms.models import Message, Room, RoomRead
from rooms.realtime.handshake import tickets
from rooms.realtime.handshake.tickets import DASHBOARD_ROOM
from rooms.realtime.notify import user_sockets_close
from rooms.realtime.process import transport
from rooms.realtime.protocol.outbound import iso_utc
from rooms.unread import dashboard_rooms
from tests.factories import user_create
from tests.rooms.sockets import TIMEOUT, join, send_text, ticket

# serialized_rollback: keep the seeded rooms that a transactional flush would wipe.
pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

DASHBOARD = "/ws/dashboard/?token="
INTERVAL = 0.05  # the activity ticker's, in most tests
# Long enough that the activity ticker never ticks within one test.
FOREVER = 60.0


@pytest.fixture(autouse=True)
def quick_ticks(monkeypatch):
    """Activity reaches the dashboards within INTERVAL."""
    monkeypatch.setattr("rooms.realtime.activity.ACTIVITY_INTERVAL", INTERVAL)


def dashboard_ticket(user, generation: int = 0) -> str:
    return tickets.issue(
        user_id=user.pk, name=user.get_display_name(), room=DASHBOARD_ROOM, generation=generation
    )


async def open_dashboard(connect, user):
    """Open `user`'s dashboard socket and return it with its welcome frame."""
    communicator, connected, code = await connect(DASHBOARD + dashboard_ticket(user))
    assert connected, f"handshake refused ({code})"
    welcome = await communicator.receive_json_from(timeout=TIMEOUT)
    assert welcome["type"] == "welcome", welcome
    return communicator, welcome


def by_slug(frame: dict) -> dict[str, dict]:
    return {room["slug"]: room for room in frame["rooms"]}


async def next_rooms(dashboard) -> dict[str, dict]:
    """The next frame, which must be a `rooms` frame: its rooms by slug."""
    frame = await dashboard.receive_json_from(timeout=TIMEOUT)
    assert frame["type"] == "rooms", frame
    return by_slug(frame)


async def general() -> Room:
    return await database_sync_to_async(Room.objects.get)(slug="general")


async def read_up_to_now(user, slug: str = "general") -> None:
    """`user` has read the room up to its latest seq (a RoomRead row)."""

    def mark():
        room = Room.objects.get(slug=slug)
        RoomRead.objects.update_or_create(user=user, room=room, defaults={"seq": room.seq})

    await database_sync_to_async(mark)()


async def post(author, text: str, slug: str = "general") -> Message:
    """A message stored through the service (mentions included), not through a socket."""
    room = await database_sync_to_async(Room.objects.get)(slug=slug)
    message, _created = await database_sync_to_async(services.message_create)(
        room=room, author=author, text=text
    )
    return message


async def said(socket, text: str) -> dict:
    """Send a message from a room socket and wait for its echo."""
    await send_text(socket, text)
    frame = await socket.receive_json_from(timeout=TIMEOUT)
    assert frame["type"] == "message", frame
    return frame


# The handshake --------------------------------------------------------------------------


async def test_dashboard_refused_without_token(connect):
    """No token, no dashboard."""
    _socket, connected, _code = await connect("/ws/dashboard/")
    assert not connected


async def test_dashboard_refused_for_a_room_ticket(connect, alice):
    """A ticket for General does not open the dashboard."""
    _socket, connected, _code = await connect(DASHBOARD + ticket(alice, "general"))
    assert not connected


async def test_a_dashboard_ticket_does_not_open_a_room(connect, alice):
    """A dashboard ticket opens no room socket (the room claim is not General)."""
    _socket, connected, _code = await connect(f"/ws/rooms/general/?token={dashboard_ticket(alice)}")
    assert not connected


async def test_dashboard_refused_for_an_inactive_user(connect, alice):
    """A deactivated person's dashboard ticket no longer opens the dashboard."""
    token = dashboard_ticket(alice)
    alice.is_active = False
    await database_sync_to_async(alice.save)()
    _socket, connected, _code = await connect(DASHBOARD + token)
    assert not connected


async def test_dashboard_refused_for_a_ticket_of_a_revoked_generation(connect, alice):
    """A dashboard ticket minted before the person's tickets were revoked (sign-out) is refused."""
    token = dashboard_ticket(alice, generation=0)
    await database_sync_to_async(user_tickets_revoke)(user=alice, why="signed out")
    _socket, connected, _code = await connect(DASHBOARD + token)
    assert not connected
    # The new generation's ticket does open it.
    _socket, connected, _code = await connect(DASHBOARD + dashboard_ticket(alice, generation=1))
    assert connected


async def test_dashboard_refused_from_a_foreign_origin(connect, alice):
    """The dashboard keeps the rooms' origin rule: another site cannot open it."""
    headers = [(b"origin", b"http://evil.example"), (b"host", b"testserver")]
    _socket, connected, _code = await connect(DASHBOARD + dashboard_ticket(alice), headers)
    assert not connected


async def test_welcome_lists_the_active_rooms_with_the_persons_counts(connect, alice, bob):
    """Archived Music is absent; General has Alice's unread and mentions and Bob online; Sports nothing."""
    await database_sync_to_async(Room.objects.filter(slug="music").update)(archived=True)
    await post(bob, "before Alice came")
    await read_up_to_now(alice)
    await post(bob, "after she left")
    await post(bob, "and @alice, are you there?")
    await post(alice, "Alice's own words never count")
    latest_in_general = await post(bob, "@alice look at this")
    await post(bob, "nothing for Alice", slug="sports")
    _bob_socket, _ = await join(connect, bob)

    _dashboard, welcome = await open_dashboard(connect, alice)

    rooms = by_slug(welcome)
    assert set(rooms) == {"general", "sports"}
    assert rooms["general"] == {
        "slug": "general",
        "name": "General",
        "kind": "public",
        "description": "Anything goes.",
        "unread": 3,
        "mentions": 2,
        "online": 1,
        "last_activity": iso_utc(latest_in_general.created_at),
    }
    sports = await database_sync_to_async(Message.objects.filter(room__slug="sports").latest)("created_at")
    assert rooms["sports"]["unread"] == 0
    assert rooms["sports"]["mentions"] == 0
    assert rooms["sports"]["online"] == 0
    assert rooms["sports"]["last_activity"] == iso_utc(sports.created_at)


async def test_welcome_counts_a_mention_in_a_room_never_entered(connect, alice, bob):
    """In Sports, which Alice never entered, a mention of her counts and the other messages do not."""
    await post(bob, "hello @alice", slug="sports")
    await post(bob, "anyone?", slug="sports")

    _dashboard, welcome = await open_dashboard(connect, alice)

    sports = by_slug(welcome)["sports"]
    assert (sports["unread"], sports["mentions"]) == (0, 1)


async def test_welcome_of_a_quiet_room_has_no_last_activity(connect, alice):
    """A room without a message says so: last_activity is null, every count 0."""
    _dashboard, welcome = await open_dashboard(connect, alice)

    assert [room["slug"] for room in welcome["rooms"]] == ["general", "music", "sports"]  # by name
    assert all(
        (room["unread"], room["mentions"], room["online"], room["last_activity"]) == (0, 0, 0, None)
        for room in welcome["rooms"]
    )


# Live counts ---------------------------------------------------------------------------


async def test_a_message_in_general_brings_alice_one_unread(connect, alice, bob):
    """Bob posts in General, which Alice has read: her dashboard gets General with unread 1."""
    await read_up_to_now(alice)
    bob_socket, _ = await join(connect, bob)
    await asyncio.sleep(INTERVAL * 4)  # Bob's arrival is told before Alice's dashboard opens
    dashboard, welcome = await open_dashboard(connect, alice)
    assert by_slug(welcome)["general"]["unread"] == 0

    message = await said(bob_socket, "hello")

    rooms = await next_rooms(dashboard)
    assert list(rooms) == ["general"]
    assert rooms["general"]["unread"] == 1
    assert rooms["general"]["mentions"] == 0
    assert rooms["general"]["online"] == 1
    stored = await database_sync_to_async(Message.objects.get)(pk=message["id"])
    assert rooms["general"]["last_activity"] == iso_utc(stored.created_at)


async def test_a_mention_of_alice_counts_in_her_mentions(connect, alice, bob):
    """Bob writes "@alice": her dashboard gets General with unread 1 and mentions 1."""
    await read_up_to_now(alice)
    bob_socket, _ = await join(connect, bob)
    await asyncio.sleep(INTERVAL * 4)
    dashboard, _ = await open_dashboard(connect, alice)

    await said(bob_socket, "are you there, @alice?")

    general_now = (await next_rooms(dashboard))["general"]
    assert (general_now["unread"], general_now["mentions"]) == (1, 1)


async def test_bobs_own_message_is_not_unread_on_his_dashboard(connect, bob):
    """Bob's dashboard hears of his message (last activity) but counts it unread 0."""
    await read_up_to_now(bob)
    bob_socket, _ = await join(connect, bob)
    await asyncio.sleep(INTERVAL * 4)
    dashboard, welcome = await open_dashboard(connect, bob)
    assert by_slug(welcome)["general"]["last_activity"] is None

    await said(bob_socket, "talking to myself")

    general_now = (await next_rooms(dashboard))["general"]
    assert (general_now["unread"], general_now["mentions"]) == (0, 0)
    assert general_now["last_activity"] is not None


async def test_someone_joining_a_room_updates_its_online_count(connect, alice, bob):
    """Bob opens Music: Alice's dashboard gets Music with online 1 (and nothing about the others)."""
    dashboard, welcome = await open_dashboard(connect, alice)
    assert by_slug(welcome)["music"]["online"] == 0

    await join(connect, bob, room="music")

    rooms = await next_rooms(dashboard)
    assert list(rooms) == ["music"]
    assert rooms["music"]["online"] == 1


async def test_someone_leaving_a_room_updates_its_online_count(connect, alice, bob):
    """Bob closes his General socket: Alice's dashboard gets General with online 0."""
    dashboard, _ = await open_dashboard(connect, alice)
    bob_socket, _ = await join(connect, bob)
    assert (await next_rooms(dashboard))["general"]["online"] == 1

    await bob_socket.disconnect()

    assert (await next_rooms(dashboard))["general"]["online"] == 0


async def test_messages_within_one_interval_arrive_as_one_rooms_frame(connect, alice, bob, monkeypatch):
    """Three messages in a burst, well inside one interval: one `rooms` frame (unread 3), then nothing."""
    interval = 0.5
    monkeypatch.setattr("rooms.realtime.activity.ACTIVITY_INTERVAL", interval)
    await read_up_to_now(alice)
    dashboard, _ = await open_dashboard(connect, alice)
    bob_socket, _ = await join(connect, bob)
    # A tick has just told of Bob's arrival: the burst starts at the beginning of an interval.
    assert (await next_rooms(dashboard))["general"]["online"] == 1

    for n in range(3):
        await said(bob_socket, f"burst {n}")

    rooms = await next_rooms(dashboard)
    assert rooms["general"]["unread"] == 3
    assert await dashboard.receive_nothing(timeout=interval * 2)


async def test_the_dashboard_ignores_what_the_client_sends(connect, alice, bob):
    """Frames from the client get no answer and do not close the socket: the next change still arrives."""
    dashboard, _ = await open_dashboard(connect, alice)

    await dashboard.send_json_to({"type": "read", "seq": 1})
    await dashboard.send_to(text_data="not json")
    await dashboard.send_to(bytes_data=b"\x00\x01")
    assert await dashboard.receive_nothing(timeout=0.3)

    await join(connect, bob)
    assert (await next_rooms(dashboard))["general"]["online"] == 1


# Read in another tab ---------------------------------------------------------------------


async def test_reading_in_a_room_tab_clears_the_unread_count(connect, alice, bob, monkeypatch):
    """Alice's General tab reports she read it: her dashboard gets General with unread 0 (no tick needed)."""
    # Only the user.read event can bring the frame: the activity ticker stays silent.
    monkeypatch.setattr("rooms.realtime.activity.ACTIVITY_INTERVAL", FOREVER)
    monkeypatch.setattr("rooms.realtime.awareness.READ_WRITE_INTERVAL", 0.05)
    await read_up_to_now(alice)
    await post(bob, "one")
    await post(bob, "two @alice")
    dashboard, welcome = await open_dashboard(connect, alice)
    assert (by_slug(welcome)["general"]["unread"], by_slug(welcome)["general"]["mentions"]) == (2, 1)
    room_socket, room_welcome = await join(connect, alice)

    await room_socket.send_json_to({"type": "read", "seq": room_welcome["seq"]})

    rooms = await next_rooms(dashboard)
    assert list(rooms) == ["general"]
    assert (rooms["general"]["unread"], rooms["general"]["mentions"]) == (0, 0)


async def test_reading_elsewhere_touches_only_that_persons_dashboard(connect, alice, bob, monkeypatch):
    """Alice reading General refreshes her dashboard, not Bob's."""
    monkeypatch.setattr("rooms.realtime.activity.ACTIVITY_INTERVAL", FOREVER)
    await read_up_to_now(alice)
    await post(bob, "one")
    alice_dashboard, _ = await open_dashboard(connect, alice)
    bob_dashboard, _ = await open_dashboard(connect, bob)
    room_socket, room_welcome = await join(connect, alice)

    await room_socket.send_json_to({"type": "read", "seq": room_welcome["seq"]})

    assert (await next_rooms(alice_dashboard))["general"]["unread"] == 0
    assert await bob_dashboard.receive_nothing(timeout=0.3)


# Signing out ------------------------------------------------------------------------------


async def test_signing_out_closes_the_dashboard_with_4401(connect, alice, bob):
    """user_sockets_close closes Alice's dashboard (4401); Bob's stays open and quiet."""
    alice_dashboard, _ = await open_dashboard(connect, alice)
    bob_dashboard, _ = await open_dashboard(connect, bob)

    await database_sync_to_async(user_sockets_close)(user_id=alice.pk)

    assert await alice_dashboard.receive_output(timeout=TIMEOUT) == {"type": "websocket.close", "code": 4401}
    assert await bob_dashboard.receive_nothing(timeout=0.2)


async def test_a_mute_leaves_the_dashboard_open_and_quiet(connect, alice, bob):
    """A moderator muting Alice in General sends her dashboard nothing; the next change still arrives."""
    dashboard, _ = await open_dashboard(connect, alice)
    moderator = await database_sync_to_async(user_create)(username="mod", is_staff=True)
    until = timezone.now() + timedelta(minutes=5)

    await database_sync_to_async(services.user_mute)(
        room=await general(), user=alice, until=until, moderator=moderator
    )

    assert await dashboard.receive_nothing(timeout=0.3)
    await join(connect, bob)
    assert (await next_rooms(dashboard))["general"]["online"] == 1


# The ticket endpoint ---------------------------------------------------------------------


def get_token_json(client: Client):
    return client.get("/rooms/token.json")


async def test_token_endpoint_answers_401_json_when_signed_out():
    """Signed out, /rooms/token.json is a 401 with a JSON body, not a redirect to the sign-in page."""
    response = await database_sync_to_async(get_token_json)(Client())

    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/json")
    assert "token" not in response.json()


async def test_token_endpoint_gives_a_dashboard_ticket_when_signed_in(alice):
    """Signed in: a ticket for Alice, room claim DASHBOARD_ROOM, of her current generation."""
    await database_sync_to_async(user_tickets_revoke)(user=alice, why="signed out elsewhere")
    client = Client()
    await database_sync_to_async(client.force_login)(alice)

    response = await database_sync_to_async(get_token_json)(client)

    assert response.status_code == 200
    body = response.json()
    assert body["ws_url"] == "/ws/dashboard/"
    assert body["expires_in"] == settings.CHAT_JWT_TTL
    granted = tickets.decode(body["token"])
    assert (granted.user_id, granted.room, granted.generation) == (alice.pk, DASHBOARD_ROOM, 1)


async def test_the_endpoints_ticket_opens_the_dashboard_socket(connect, alice):
    """The ticket the page fetches opens ws_url and gets the welcome."""
    client = Client()
    await database_sync_to_async(client.force_login)(alice)
    body = (await database_sync_to_async(get_token_json)(client)).json()

    socket, connected, code = await connect(f"{body['ws_url']}?token={body['token']}")

    assert connected, code
    assert (await socket.receive_json_from(timeout=TIMEOUT))["type"] == "welcome"


async def test_the_dashboard_page_shows_what_the_welcome_would(alice, bob):
    """/rooms/ renders dashboard_rooms for the person: General with Alice's unread count."""
    await read_up_to_now(alice)
    await post(bob, "hello")
    client = Client()
    await database_sync_to_async(client.force_login)(alice)

    response = await database_sync_to_async(client.get)("/rooms/")

    assert response.status_code == 200
    online = lambda slugs: transport().presence.counts(rooms=slugs)  # noqa: E731
    expected = await database_sync_to_async(dashboard_rooms)(user=alice, online=online)
    assert response.context["rooms"] == expected
    assert by_slug({"rooms": expected})["general"]["unread"] == 1
