"""The per-room event log (README "Delivery"): seq on every room event, resume by seq and epoch, position.

Through the real ASGI stack: what a client sees when it connects, talks,
drops and comes back.
"""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from django.core.management import call_command
from django.test import Client

from rooms import selectors
from rooms.models import Message, Room
from rooms.services import message_delete
from tests.factories import message_insert, messages_insert
from tests.rooms.sockets import TIMEOUT, join, say, send_text

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


async def general() -> Room:
    return await database_sync_to_async(Room.objects.get)(slug="general")


async def delete(message_id: int, moderator) -> None:
    message = await database_sync_to_async(Message.objects.select_related("room").get)(pk=message_id)
    await database_sync_to_async(message_delete)(message=message, by=moderator)


def resume_query(welcome: dict, since: int | None = None) -> str:
    """The query string the room page adds when it reconnects after `welcome` (and events up to `since`)."""
    return f"&since={welcome['seq'] if since is None else since}&epoch={welcome['epoch']}"


async def test_welcome_names_where_the_rooms_log_stands(connect, alice):
    """The welcome carries the room's current seq and its epoch."""
    room = await general()

    _socket, welcome = await join(connect, alice)

    assert welcome["seq"] == room.seq == 0
    assert welcome["epoch"] == room.epoch
    assert len(welcome["epoch"]) == 32
    assert "recovered" not in welcome


async def test_every_room_event_takes_the_rooms_next_seq(connect, alice, bob, alice_and_bob, moderator):
    """Messages and deletions are numbered 1, 2, 3, … in the order they were stored, for everyone."""
    alice_socket, bob_socket = alice_and_bob
    first = await say(alice_socket, bob_socket, "one", "c-1")
    second = await say(bob_socket, alice_socket, "two", "c-2")
    await delete(first["id"], moderator=moderator)
    deleted = await alice_socket.receive_json_from(timeout=TIMEOUT)
    assert await bob_socket.receive_json_from(timeout=TIMEOUT) == deleted

    assert [first["seq"], second["seq"], deleted["seq"]] == [1, 2, 3]
    assert deleted == {"type": "message_deleted", "id": first["id"], "seq": 3}
    _socket, welcome = await join(connect, alice)
    assert welcome["seq"] == 3


async def test_a_retry_takes_no_seq_and_is_echoed_with_its_own(alice_and_bob):
    """A resend (same client_id) gets the stored message back, seq unchanged; the next message takes 2."""
    alice_socket, bob_socket = alice_and_bob
    sent = await say(alice_socket, bob_socket, "once", "dup-1")

    await send_text(alice_socket, "once", "dup-1")
    echoed = await alice_socket.receive_json_from(timeout=TIMEOUT)
    after = await say(alice_socket, bob_socket, "next", "dup-2")

    assert echoed == sent
    assert after["seq"] == sent["seq"] + 1


async def test_resume_replays_every_event_after_since_deletions_included(connect, alice, bob, moderator):
    """Back after a drop, the welcome says recovered and holds what was missed, in seq order."""
    bob_socket, _ = await join(connect, bob)
    alice_socket, alice_welcome = await join(connect, alice)
    await bob_socket.receive_json_from(timeout=TIMEOUT)  # alice joined
    kept = await say(bob_socket, alice_socket, "seen before the drop", "b-1")
    doomed = await say(bob_socket, alice_socket, "deleted while away", "b-2")
    await alice_socket.disconnect()
    assert (await bob_socket.receive_json_from(timeout=TIMEOUT))["type"] == "user_left"

    await send_text(bob_socket, "said while away", "b-3")
    missed = await bob_socket.receive_json_from(timeout=TIMEOUT)
    await delete(doomed["id"], moderator=moderator)
    deletion = await bob_socket.receive_json_from(timeout=TIMEOUT)

    _socket, welcome = await join(connect, alice, query=resume_query(alice_welcome, since=doomed["seq"]))

    assert welcome["recovered"] is True
    assert welcome["history"] == []
    assert welcome["events"] == [missed, deletion]
    assert welcome["seq"] == deletion["seq"]
    assert kept["seq"] < doomed["seq"] < missed["seq"] < deletion["seq"]


async def test_a_resume_replays_a_page_of_events_at_a_time(connect, alice, bob, monkeypatch):
    """Far behind, a welcome replays RECOVERY_PAGE events and has_more; resumes from its seq give the rest."""
    monkeypatch.setattr(selectors, "RECOVERY_PAGE", 2)
    _socket, start = await join(connect, alice)
    room = await general()
    sent = await database_sync_to_async(messages_insert)(room=room, author=bob, count=5)

    pages = []
    since = start["seq"]
    while not pages or pages[-1]["has_more"]:
        _socket, welcome = await join(connect, alice, query=resume_query(start, since=since))
        pages.append(welcome)
        since = welcome["seq"]

    assert [[event["text"] for event in page["events"]] for page in pages] == [
        ["m1", "m2"],
        ["m3", "m4"],
        ["m5"],
    ]
    assert [page["has_more"] for page in pages] == [True, True, False]
    assert all(page["recovered"] for page in pages)
    assert pages[-1]["seq"] == sent[-1].seq


async def test_a_welcome_replays_at_most_a_history_page(connect, alice, bob):
    """One welcome never carries more than a history page, however far behind (1,000 messages were 8 MB)."""
    _socket, start = await join(connect, alice)
    room = await general()
    await database_sync_to_async(messages_insert)(
        room=room, author=bob, count=selectors.HISTORY_PAGE_MAX + 20
    )

    _socket, by_seq = await join(connect, alice, query=resume_query(start))
    _socket, by_id = await join(connect, alice, query="&after=0")

    assert len(by_seq["events"]) == selectors.HISTORY_PAGE_MAX
    assert by_seq["has_more"] is True
    assert len(by_id["history"]) == selectors.HISTORY_PAGE_MAX
    assert by_id["has_more"] is True


async def test_a_page_of_long_messages_stops_at_the_text_budget(connect, alice, bob, monkeypatch):
    """Long messages end a page before RECOVERY_PAGE does: a welcome stays under 1 MiB; the rest follows."""
    monkeypatch.setattr(selectors, "PAGE_TEXT_BUDGET", 5)
    _socket, start = await join(connect, alice)
    room = await general()
    for text in ("abc", "def", "ghi"):
        await database_sync_to_async(message_insert)(room=room, author=bob, text=text)

    _socket, first = await join(connect, alice, query=resume_query(start))
    _socket, rest = await join(connect, alice, query=resume_query(start, since=first["seq"]))
    _socket, old_client = await join(connect, alice, query="&after=0")

    assert [event["text"] for event in first["events"]] == ["abc"]
    assert first["has_more"] is True
    assert [event["text"] for event in rest["events"]] == ["def"]
    assert [message["text"] for message in old_client["history"]] == ["ghi"]
    assert old_client["has_more"] is True


async def test_a_message_deleted_while_away_replays_as_its_deletion_only(connect, alice, bob, moderator):
    """A message both sent and deleted while a client was away comes back as a deletion, never its text."""
    alice_socket, alice_welcome = await join(connect, alice)
    await alice_socket.disconnect()
    bob_socket, _ = await join(connect, bob)
    await send_text(bob_socket, "secret, deleted soon", "b-1")
    sent = await bob_socket.receive_json_from(timeout=TIMEOUT)
    await delete(sent["id"], moderator=moderator)

    _socket, welcome = await join(connect, alice, query=resume_query(alice_welcome))

    assert welcome["events"] == [{"type": "message_deleted", "id": sent["id"], "seq": sent["seq"] + 1}]
    assert "secret" not in str(welcome)


async def test_resume_with_another_epoch_starts_over_from_the_latest_history(connect, alice, bob):
    """After a new epoch (a restored backup), a resume is not recovered: the latest history instead."""
    alice_socket, alice_welcome = await join(connect, alice)
    await send_text(alice_socket, "before the restore", "a-1")
    sent = await alice_socket.receive_json_from(timeout=TIMEOUT)
    await alice_socket.disconnect()
    await database_sync_to_async(call_command)("rooms_new_epoch", "general", verbosity=0)

    _socket, welcome = await join(connect, alice, query=resume_query(alice_welcome))

    assert welcome["recovered"] is False
    assert "events" not in welcome
    assert [frame["id"] for frame in welcome["history"]] == [sent["id"]]
    assert welcome["epoch"] != alice_welcome["epoch"]


async def test_resume_further_behind_than_the_recovery_limit_starts_over(connect, alice, bob, settings):
    """A client more than CHAT_RECOVERY_LIMIT events behind is told so and gets the latest history."""
    settings.CHAT_RECOVERY_LIMIT = 3
    alice_socket, alice_welcome = await join(connect, alice)
    await alice_socket.disconnect()
    bob_socket, _ = await join(connect, bob)
    for n in range(4):
        await send_text(bob_socket, f"m{n}", f"b-{n}")
        await bob_socket.receive_json_from(timeout=TIMEOUT)

    _socket, welcome = await join(connect, alice, query=resume_query(alice_welcome))

    assert welcome["recovered"] is False
    assert [frame["text"] for frame in welcome["history"]] == ["m0", "m1", "m2", "m3"]


async def test_resume_from_beyond_the_log_starts_over(connect, alice):
    """A seq the room never reached (the database went back) is not taken for a position in the log."""
    _socket, first = await join(connect, alice)

    _socket, welcome = await join(connect, alice, query=resume_query(first, since=first["seq"] + 5))

    assert welcome["recovered"] is False


async def test_resume_with_a_since_that_is_not_a_whole_number_is_a_fresh_connect(connect, alice):
    """A malformed since is ignored, as a malformed after is: the latest history, no recovered flag."""
    _socket, welcome = await join(connect, alice, query="&since=1e3&epoch=x")

    assert "recovered" not in welcome


async def test_an_idle_socket_hears_where_the_log_stands(connect, alice, bob, settings):
    """Every CHAT_POSITION_INTERVAL each socket gets the room's seq, so a lost last event is noticed."""
    settings.CHAT_POSITION_INTERVAL = 0.2
    socket, welcome = await join(connect, alice)
    room = await general()
    # Stored without a broadcast: as if its frame were lost in the channel layer.
    await database_sync_to_async(message_insert)(room=room, author=bob, text="lost")

    position = await socket.receive_json_from(timeout=TIMEOUT)

    assert position == {"type": "position", "seq": 1, "epoch": welcome["epoch"]}


# GET /rooms/<slug>/events/?since=<seq>: the same answer over HTTP, for a live socket that saw a gap.


def events(client: Client, query: str):
    return client.get(f"/rooms/general/events/?{query}")


async def test_events_endpoint_answers_like_a_resume(connect, alice, bob, alice_and_bob, moderator):
    """Every event after since, in seq order, with the room's seq and epoch."""
    alice_socket, bob_socket = alice_and_bob
    first = await say(alice_socket, bob_socket, "one", "c-1")
    second = await say(alice_socket, bob_socket, "two", "c-2")
    await delete(first["id"], moderator=moderator)
    deletion = await alice_socket.receive_json_from(timeout=TIMEOUT)
    client = Client()
    await database_sync_to_async(client.force_login)(alice)
    room = await general()

    answer = await database_sync_to_async(events)(client, f"since={first['seq']}&epoch={room.epoch}")

    assert answer.status_code == 200
    assert answer.json() == {
        "seq": 3,
        "epoch": room.epoch,
        "recovered": True,
        "events": [second, deletion],
        "has_more": False,
    }
    assert "no-cache" in answer["Cache-Control"]


async def test_events_endpoint_of_another_epoch_gives_the_latest_history(alice):
    """An epoch that is not the room's is answered with recovered false and the latest history."""
    stored = await database_sync_to_async(message_insert)(room=await general(), author=alice, text="kept")
    client = Client()
    await database_sync_to_async(client.force_login)(alice)

    answer = await database_sync_to_async(events)(client, "since=0&epoch=not-this-one")

    assert answer.status_code == 200
    assert answer.json()["recovered"] is False
    assert [frame["id"] for frame in answer.json()["history"]] == [stored.pk]


@pytest.mark.parametrize("query", ["", "since=", "since=-1", "since=abc", "since=1.5"])
async def test_events_endpoint_answers_400_json_for_a_bad_since(alice, query):
    """since is required and must be a whole number."""
    client = Client()
    await database_sync_to_async(client.force_login)(alice)

    answer = await database_sync_to_async(events)(client, query)

    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid"


async def test_events_endpoint_answers_401_json_when_signed_out():
    """Signed out: 401 JSON, as the other JSON endpoints."""
    answer = await database_sync_to_async(events)(Client(), "since=0")

    assert answer.status_code == 401
