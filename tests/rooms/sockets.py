"""Helpers for tests that open room sockets through chatsite.asgi.application."""

from __future__ import annotations

from channels.db import database_sync_to_async

from rooms.models import Message, Room
from rooms.realtime.handshake import tickets
from rooms.realtime.process import transport
from tests.factories import messages_insert, token_claims

# What a browser on this site sends: the site's own Origin and Host.
SITE_HEADERS = [(b"origin", b"http://testserver"), (b"host", b"testserver")]
TIMEOUT = 2


def ticket(user, room: str = "general") -> str:
    return tickets.issue(user_id=user.pk, name=user.get_display_name(), room=room)


def claims_for(user, room: str = "general", **changes) -> dict:
    return token_claims(user_id=user.pk, name=user.get_display_name(), room=room, **changes)


async def join(connect, user, room: str = "general", query: str = ""):
    """Open a room socket for `user` and return it with its welcome frame."""
    communicator, connected, code = await connect(f"/ws/rooms/{room}/?token={ticket(user, room)}{query}")
    assert connected, f"handshake refused ({code})"
    welcome = await communicator.receive_json_from(timeout=TIMEOUT)
    assert welcome["type"] == "welcome"
    return communicator, welcome


async def session_ticket(client, room: str = "general") -> str:
    """A ticket the way the page gets one: from the token endpoint, bound to `client`'s session."""
    url = "/rooms/token.json" if room == tickets.DASHBOARD_ROOM else f"/rooms/{room}/token/"
    response = await database_sync_to_async(client.get)(url, HTTP_ACCEPT="application/json")
    assert response.status_code == 200, response.content
    return response.json()["token"]


async def join_with_session(connect, client, room: str = "general"):
    """Open a room socket with a ticket of `client`'s session; the socket and its welcome frame."""
    token = await session_ticket(client, room)
    communicator, connected, code = await connect(f"/ws/rooms/{room}/?token={token}")
    assert connected, f"handshake refused ({code})"
    welcome = await communicator.receive_json_from(timeout=TIMEOUT)
    assert welcome["type"] == "welcome"
    return communicator, welcome


async def online_ids(room: str = "general") -> list[int]:
    return [member.id for member in (await transport().presence.roster(room=room)).members]


def store_failing(*args, **kwargs):
    raise RuntimeError("database went away")


async def messages_in_general(author, count: int) -> list[int]:
    """Store `count` messages ("m1", "m2", …) in General; their ids, in order."""
    room = await database_sync_to_async(Room.objects.get)(slug="general")
    messages = await database_sync_to_async(messages_insert)(room=room, author=author, count=count)
    return [message.pk for message in messages]


async def message_count() -> int:
    return await database_sync_to_async(Message.objects.count)()


async def send_text(communicator, text: str, client_id: str | None = None) -> None:
    frame = {"type": "message", "text": text}
    if client_id:
        frame["client_id"] = client_id
    await communicator.send_json_to(frame)


async def say(sender, listener, text: str, client_id: str) -> dict:
    """Send a message and return it as both the sender and a listener receive it."""
    await send_text(sender, text, client_id)
    frame = await sender.receive_json_from(timeout=TIMEOUT)
    assert await listener.receive_json_from(timeout=TIMEOUT) == frame
    return frame


async def assert_refused(connect, observer, path: str, headers=None) -> None:
    """The handshake is refused and the observer in General hears nothing."""
    _communicator, connected, _code = await connect(path, headers)
    assert not connected
    assert await observer.receive_nothing(timeout=0.2)
    assert await message_count() == 0
