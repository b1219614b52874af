"""RoomConsumer through the real ASGI stack: the welcome, talking, presence, resume, limits and closes.

Refused handshakes are tests/rooms/realtime/test_handshake.py's.
"""

from __future__ import annotations

import asyncio
from collections import deque

import pytest
from channels.db import database_sync_to_async
from django.test import Client

from rooms import selectors
from rooms.models import Message, Room
from rooms.realtime import consumer, group_commit
from rooms.realtime.notify import user_sockets_close
from rooms.realtime.wire.base import UnknownWire
from rooms.realtime.writer import SocketWriter
from rooms.services import message_delete, room_archive
from tests import factories
from tests.rooms.sockets import (
    TIMEOUT,
    join,
    join_with_session,
    message_count,
    messages_in_general,
    online_ids,
    say,
    send_text,
    store_failing,
    ticket,
)

# serialized_rollback: keep the seeded rooms that a transactional flush would wipe.
pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


# Talking and presence.


async def test_welcome_describes_room_user_people_and_history(connect, alice):
    """The first frame names the room and the user, who is online, and recent history."""
    await messages_in_general(alice, 55)
    _communicator, welcome = await join(connect, alice)
    assert welcome["room"] == {"slug": "general", "name": "General", "kind": "public"}
    assert welcome["user"] == {"id": alice.pk, "name": "Alice"}
    assert welcome["users"] == [{"id": alice.pk, "name": "Alice"}]
    assert [m["text"] for m in welcome["history"]] == [f"m{n}" for n in range(6, 56)]


async def test_two_members_see_each_others_messages_and_presence(connect, alice, bob):
    """Alice and Bob chat in General and see each other come and go."""
    alice_socket, _ = await join(connect, alice)
    bob_socket, bob_welcome = await join(connect, bob)
    assert {u["name"] for u in bob_welcome["users"]} == {"Alice", "Bob"}
    assert await alice_socket.receive_json_from(timeout=TIMEOUT) == {
        "type": "user_joined",
        "user": {"id": bob.pk, "name": "Bob"},
    }

    await send_text(alice_socket, "  hi Bob  ", client_id="c-1")
    to_alice = await alice_socket.receive_json_from(timeout=TIMEOUT)
    to_bob = await bob_socket.receive_json_from(timeout=TIMEOUT)
    assert to_alice == to_bob
    assert to_bob["type"] == "message"
    assert to_bob["text"] == "hi Bob"
    assert to_bob["user"] == {"id": alice.pk, "name": "Alice"}
    assert to_bob["room"] == "general"
    assert to_bob["client_id"] == "c-1"
    assert to_bob["sent_at"].endswith("Z")

    await bob_socket.disconnect()
    assert await alice_socket.receive_json_from(timeout=TIMEOUT) == {
        "type": "user_left",
        "user": {"id": bob.pk, "name": "Bob"},
    }


async def test_message_is_stored_before_it_is_broadcast(connect, alice, bob, monkeypatch):
    """A message that cannot be stored reaches nobody; its sender is closed with 4011."""
    monkeypatch.setattr(group_commit, "message_create_many", store_failing)
    bob_socket, _ = await join(connect, bob)
    alice_socket, _ = await join(connect, alice)
    await bob_socket.receive_json_from(timeout=TIMEOUT)  # alice joined
    await send_text(alice_socket, "lost")
    assert await alice_socket.receive_output(timeout=TIMEOUT) == {"type": "websocket.close", "code": 4011}
    assert await bob_socket.receive_nothing(timeout=0.2)
    assert await message_count() == 0


async def test_crash_while_handling_a_frame_leaves_no_ghost(connect, alice, bob, monkeypatch, caplog):
    """After a 4011 close the member leaves presence, others see user_left, the log has no token."""
    monkeypatch.setattr(group_commit, "message_create_many", store_failing)
    bob_socket, _ = await join(connect, bob)
    token = ticket(alice)
    alice_socket, connected, _code = await connect(f"/ws/rooms/general/?token={token}")
    assert connected
    await alice_socket.receive_json_from(timeout=TIMEOUT)  # welcome
    await bob_socket.receive_json_from(timeout=TIMEOUT)  # alice joined
    await send_text(alice_socket, "boom")
    assert await alice_socket.receive_output(timeout=TIMEOUT) == {"type": "websocket.close", "code": 4011}

    await alice_socket.disconnect()  # the ASGI server's websocket.disconnect after our close
    assert await bob_socket.receive_json_from(timeout=TIMEOUT) == {
        "type": "user_left",
        "user": {"id": alice.pk, "name": "Alice"},
    }
    assert await online_ids() == [bob.pk]
    assert any(record.exc_info and "handling a frame" in record.getMessage() for record in caplog.records)
    assert token not in caplog.text


async def test_crash_while_joining_closes_with_4011_and_leaves_no_ghost(
    connect, alice, bob, monkeypatch, settings
):
    """A failure after joining presence closes with 4011 and the member leaves again.

    Presence news goes out at once here, so Bob is told of both changes (coalesced, he
    would hear of neither: tests/rooms/realtime/test_presence_batch.py).
    """
    settings.CHAT_PRESENCE_COALESCE = 0
    bob_socket, _ = await join(connect, bob)
    monkeypatch.setattr(consumer.outbound, "encode_welcome", store_failing)
    alice_socket, connected, _code = await connect(f"/ws/rooms/general/?token={ticket(alice)}")
    assert connected
    assert await alice_socket.receive_output(timeout=TIMEOUT) == {"type": "websocket.close", "code": 4011}
    await alice_socket.disconnect()
    assert (await bob_socket.receive_json_from(timeout=TIMEOUT))["type"] == "user_joined"
    assert (await bob_socket.receive_json_from(timeout=TIMEOUT))["type"] == "user_left"
    assert await online_ids() == [bob.pk]


async def test_messages_arrive_in_id_order(connect, alice, bob):
    """Everyone receives a burst of messages in increasing id order."""
    alice_socket, _ = await join(connect, alice)
    bob_socket, _ = await join(connect, bob)
    await alice_socket.receive_json_from(timeout=TIMEOUT)  # bob joined
    for n in range(5):
        await send_text(alice_socket, f"a{n}")
        await send_text(bob_socket, f"b{n}")
    ids = [(await bob_socket.receive_json_from(timeout=TIMEOUT))["id"] for _ in range(10)]
    assert ids == sorted(ids)


async def test_second_tab_sends_no_presence_events(connect, alice, bob):
    """A second socket of the same user neither joins nor leaves in others' eyes."""
    _alice_tab, _ = await join(connect, alice)
    bob_socket, _ = await join(connect, bob)

    second_tab, welcome = await join(connect, bob)
    assert [u["name"] for u in welcome["users"]].count("Bob") == 1
    second_tab_joined = await _alice_tab.receive_json_from(timeout=TIMEOUT)
    assert second_tab_joined == {"type": "user_joined", "user": {"id": bob.pk, "name": "Bob"}}
    assert await _alice_tab.receive_nothing(timeout=0.2)

    await second_tab.disconnect()
    assert await _alice_tab.receive_nothing(timeout=0.2)
    await bob_socket.disconnect()
    assert (await _alice_tab.receive_json_from(timeout=TIMEOUT))["type"] == "user_left"


async def test_second_tab_after_a_name_change_counts_once(connect, alice, bob):
    """A user renamed between two tabs is one person online, shown by the new name, with no user_joined."""
    _first_tab, _ = await join(connect, alice)
    bob_socket, _ = await join(connect, bob)
    alice.display_name = "Alice Liddell"
    await database_sync_to_async(alice.save)()

    _second_tab, welcome = await join(connect, alice)

    assert welcome["users"] == [
        {"id": alice.pk, "name": "Alice Liddell"},
        {"id": bob.pk, "name": "Bob"},
    ]
    assert await bob_socket.receive_nothing(timeout=0.2)


async def test_resume_after_returns_every_message_after_that_id(connect, alice):
    """A reconnecting client with ?after=<id> gets exactly the messages it missed."""
    ids = await messages_in_general(alice, 5)
    _socket, welcome = await join(connect, alice, query=f"&after={ids[1]}")
    assert [m["id"] for m in welcome["history"]] == ids[2:]


async def test_resume_past_resume_max_says_has_more(connect, alice, monkeypatch):
    """A client away for more than RESUME_MAX messages gets the newest and has_more true."""
    monkeypatch.setattr(selectors, "RESUME_MAX", 3)
    ids = await messages_in_general(alice, 5)
    _socket, truncated = await join(connect, alice, query=f"&after={ids[0]}")
    _socket, complete = await join(connect, alice, query=f"&after={ids[1]}")
    _socket, fresh = await join(connect, alice)
    assert [m["id"] for m in truncated["history"]] == ids[2:]
    assert truncated["has_more"] is True
    assert [m["id"] for m in complete["history"]] == ids[2:]
    assert complete["has_more"] is False
    assert fresh["has_more"] is False


@pytest.mark.parametrize("after", ["%C2%B2", "%D9%A1%D9%A2", "-1", "1.5", "abc", "", "1e3"])
async def test_resume_ignores_an_after_that_is_not_a_whole_number(connect, alice, after):
    """A bad `after` ("²", Arabic-Indic digits, signs…) gives the latest history and leaves no ghost."""
    ids = await messages_in_general(alice, 1)
    socket, welcome = await join(connect, alice, query=f"&after={after}")
    assert [m["id"] for m in welcome["history"]] == ids
    await socket.disconnect()
    assert await online_ids() == []


async def test_resume_after_beyond_bigint_gets_nothing_newer(connect, alice):
    """An `after` past any possible id is capped, not an error: nothing is newer."""
    await messages_in_general(alice, 1)
    _socket, welcome = await join(connect, alice, query="&after=" + "9" * 5000)
    assert welcome["history"] == []


async def test_same_client_id_is_stored_once_and_echoed_to_sender(alice_and_bob):
    """A retried send is not stored or broadcast twice; the sender gets the stored one back."""
    alice_socket, bob_socket = alice_and_bob
    first = await say(alice_socket, bob_socket, "once", client_id="retry-1")

    await send_text(alice_socket, "once", client_id="retry-1")
    echo = await alice_socket.receive_json_from(timeout=TIMEOUT)
    assert echo == first
    assert await bob_socket.receive_nothing(timeout=0.2)
    assert await message_count() == 1


async def test_a_rate_limited_message_is_named_and_told_when_to_come_back(alice_and_bob, settings):
    """The refusal carries the message's client_id and retry_after: the page keeps it and sends it then."""
    settings.CHAT_RATE_LIMIT = 1
    settings.CHAT_RATE_WINDOW = 10.0
    alice_socket, bob_socket = alice_and_bob
    await say(alice_socket, bob_socket, "first", client_id="ok-1")

    await send_text(alice_socket, "too soon", client_id="later-2")
    refused = await alice_socket.receive_json_from(timeout=TIMEOUT)

    assert refused["code"] == "rate_limited"
    assert refused["client_id"] == "later-2"
    assert 0 < refused["retry_after"] <= 10.0
    await send_text(alice_socket, "", client_id="blank-3")
    empty = await alice_socket.receive_json_from(timeout=TIMEOUT)
    assert (empty["code"], empty["client_id"]) == ("empty", "blank-3")
    assert "retry_after" not in empty


async def test_retry_past_the_rate_limit_is_echoed_not_refused(alice_and_bob, settings):
    """A rate-limited sender resending a stored client_id gets its message back; new text is refused."""
    settings.CHAT_RATE_LIMIT = 1
    alice_socket, bob_socket = alice_and_bob
    first = await say(alice_socket, bob_socket, "once", client_id="retry-1")

    await send_text(alice_socket, "once", client_id="retry-1")
    assert await alice_socket.receive_json_from(timeout=TIMEOUT) == first
    await send_text(alice_socket, "something new", client_id="retry-2")
    assert (await alice_socket.receive_json_from(timeout=TIMEOUT))["code"] == "rate_limited"
    assert await bob_socket.receive_nothing(timeout=0.2)
    assert await message_count() == 1


async def test_retry_of_a_deleted_message_gets_its_deletion_not_its_text(alice_and_bob, bob, moderator):
    """Resending a client_id a moderator deleted answers message_deleted to the sender only."""
    alice_socket, bob_socket = alice_and_bob
    sent = await say(alice_socket, bob_socket, "regrettable", client_id="retry-1")
    message = await database_sync_to_async(Message.objects.select_related("room").get)(pk=sent["id"])
    await database_sync_to_async(message_delete)(message=message, by=moderator)
    await alice_socket.receive_json_from(timeout=TIMEOUT)  # the moderator's message_deleted
    await bob_socket.receive_json_from(timeout=TIMEOUT)

    await send_text(alice_socket, "regrettable", client_id="retry-1")

    answer = await alice_socket.receive_json_from(timeout=TIMEOUT)
    assert answer == {
        "type": "message_deleted",
        "id": sent["id"],
        "seq": sent["seq"] + 1,
        "client_id": "retry-1",
    }
    assert await bob_socket.receive_nothing(timeout=0.2)
    assert await message_count() == 1


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("not json", "invalid_json"),
        ('["message"]', "invalid_frame"),
        ('{"type": "whisper"}', "invalid_frame"),
        ('{"type": "message", "text": 42}', "invalid_frame"),
        ('{"type": "message", "text": "hi", "client_id": 7}', "invalid_frame"),
        ('{"type": "message", "text": "   "}', "empty"),
        ("[" * 50_00 + "]" * 50_00, "invalid_json"),
    ],
)
async def test_bad_frame_gets_error_and_socket_stays_open(connect, alice, frame, code):
    """A bad frame is answered with an error frame; the socket goes on working."""
    socket, _ = await join(connect, alice)
    await socket.send_to(text_data=frame)
    error = await socket.receive_json_from(timeout=TIMEOUT)
    assert error["type"] == "error"
    assert error["code"] == code
    assert error["detail"]
    await send_text(socket, "still here")
    assert (await socket.receive_json_from(timeout=TIMEOUT))["text"] == "still here"
    assert await message_count() == 1


async def test_too_long_message_is_refused(connect, alice, settings):
    """A message over CHAT_MAX_MESSAGE_LENGTH gets too_long and is not stored."""
    settings.CHAT_MAX_MESSAGE_LENGTH = 10
    socket, _ = await join(connect, alice)
    await send_text(socket, "x" * 11)
    assert (await socket.receive_json_from(timeout=TIMEOUT))["code"] == "too_long"
    assert await message_count() == 0


async def test_a_message_that_shows_nothing_is_refused_as_empty(connect, alice, bob):
    """Zero-width spaces and Hangul fillers get `empty`; nobody sees a blank row, nothing is stored."""
    bob_socket, _ = await join(connect, bob)
    socket, _ = await join(connect, alice)
    await bob_socket.receive_json_from(timeout=TIMEOUT)  # alice joined
    await send_text(socket, "\u200b\u3164\u2800")
    assert (await socket.receive_json_from(timeout=TIMEOUT))["code"] == "empty"
    assert await bob_socket.receive_nothing(timeout=0.2)
    assert await message_count() == 0


async def test_binary_frame_is_refused(connect, alice):
    """Binary frames are not part of the protocol."""
    socket, _ = await join(connect, alice)
    await socket.send_to(bytes_data=b"\x00\x01")
    assert (await socket.receive_json_from(timeout=TIMEOUT))["code"] == "invalid_frame"


async def test_rate_limit_is_shared_by_all_tabs_of_a_user(connect, alice, settings):
    """Past CHAT_RATE_LIMIT messages per window, across tabs, messages are refused."""
    settings.CHAT_RATE_LIMIT = 3
    tab1, _ = await join(connect, alice)
    tab2, _ = await join(connect, alice)
    for text in ("one", "two"):
        await send_text(tab1, text)
        await tab1.receive_json_from(timeout=TIMEOUT)
        await tab2.receive_json_from(timeout=TIMEOUT)
    await send_text(tab2, "three")
    await tab2.receive_json_from(timeout=TIMEOUT)
    await tab1.receive_json_from(timeout=TIMEOUT)

    await send_text(tab2, "four")
    assert (await tab2.receive_json_from(timeout=TIMEOUT))["code"] == "rate_limited"
    assert await tab1.receive_nothing(timeout=0.2)
    assert await message_count() == 3


async def test_rate_limit_is_per_room(connect, alice, settings):
    """A user limited in one room can still talk in another."""
    settings.CHAT_RATE_LIMIT = 1
    general, _ = await join(connect, alice)
    sports, _ = await join(connect, alice, room="sports")
    await send_text(general, "one")
    assert (await general.receive_json_from(timeout=TIMEOUT))["type"] == "message"
    await send_text(general, "two")
    assert (await general.receive_json_from(timeout=TIMEOUT))["code"] == "rate_limited"
    await send_text(sports, "elsewhere")
    assert (await sports.receive_json_from(timeout=TIMEOUT))["text"] == "elsewhere"


async def test_oversized_frame_closes_with_4009(connect, alice, bob, settings):
    """A frame over CHAT_MAX_FRAME_BYTES closes the socket with 4009 and stores nothing."""
    settings.CHAT_MAX_FRAME_BYTES = 1024
    _bob_socket, _ = await join(connect, bob)
    socket, _ = await join(connect, alice)
    await send_text(socket, "é" * 600)  # 600 characters, 1200 bytes
    assert await socket.receive_output(timeout=TIMEOUT) == {"type": "websocket.close", "code": 4009}
    assert await message_count() == 0


async def test_client_that_keeps_sending_garbage_is_closed_with_4008(connect, alice):
    """Ten refused frames in a row close the socket with 4008."""
    socket, _ = await join(connect, alice)
    for _ in range(9):
        await socket.send_to(text_data="garbage")
        assert (await socket.receive_json_from(timeout=TIMEOUT))["code"] == "invalid_json"
    await socket.send_to(text_data="garbage")
    assert (await socket.receive_json_from(timeout=TIMEOUT))["code"] == "invalid_json"
    assert await socket.receive_output(timeout=TIMEOUT) == {"type": "websocket.close", "code": 4008}


async def test_flooding_past_the_rate_limit_is_closed_with_4008(connect, alice, settings):
    """A client that keeps flooding after rate_limited is disconnected."""
    settings.CHAT_RATE_LIMIT = 2
    socket, _ = await join(connect, alice)
    for n in range(12):
        await send_text(socket, f"flood {n}")
    # With a shared layer the two broadcasts may come back after the refusals,
    # and then after the close, which drops them: read up to the close.
    outputs = [await socket.receive_output(timeout=TIMEOUT)]
    while outputs[-1]["type"] != "websocket.close":
        outputs.append(await socket.receive_output(timeout=TIMEOUT))
    assert outputs[-1] == {"type": "websocket.close", "code": 4008}
    refused = [o for o in outputs if o["type"] == "websocket.send" and '"rate_limited"' in o["text"]]
    assert len(refused) == 10
    assert await socket.receive_nothing()
    assert await message_count() == 2


async def test_sign_out_closes_every_socket_of_that_session_with_4401(connect, alice):
    """POST /accounts/logout/ closes that browser's sockets in every room; another browser's stay."""
    browser, other_browser = Client(), Client()
    for client in (browser, other_browser):
        await database_sync_to_async(client.force_login)(alice)
    general, _ = await join_with_session(connect, browser)
    sports, _ = await join_with_session(connect, browser, room="sports")
    elsewhere, _ = await join_with_session(connect, other_browser, room="music")

    response = await database_sync_to_async(browser.post)("/accounts/logout/")

    assert response.status_code == 302
    for socket in (general, sports):
        assert await socket.receive_output(timeout=TIMEOUT) == {"type": "websocket.close", "code": 4401}
    assert await elsewhere.receive_nothing(timeout=0.3)


async def test_user_sockets_close_leaves_other_users_connected(connect, alice, bob):
    """Closing one user's sockets does not touch anyone else's."""
    alice_socket, _ = await join(connect, alice)
    bob_socket, _ = await join(connect, bob)
    await alice_socket.receive_json_from(timeout=TIMEOUT)
    await database_sync_to_async(user_sockets_close)(user_id=alice.pk)
    assert await alice_socket.receive_output(timeout=TIMEOUT) == {"type": "websocket.close", "code": 4401}
    assert await bob_socket.receive_nothing(timeout=0.2)


async def test_admin_unticking_active_closes_the_users_sockets_with_4401(connect, alice, admin_client):
    """Saving a user as inactive in the admin closes their sockets, and their token opens no more."""
    socket, _ = await join(connect, alice)
    token = ticket(alice)
    form = {
        "username": alice.username,
        "display_name": alice.display_name,
        "date_joined_0": alice.date_joined.date().isoformat(),
        "date_joined_1": alice.date_joined.time().isoformat(timespec="seconds"),
    }  # is_active left out: the box is unticked

    change_url = f"/admin/accounts/user/{alice.pk}/change/"
    response = await database_sync_to_async(admin_client.post)(change_url, form)

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert await socket.receive_output(timeout=TIMEOUT) == {"type": "websocket.close", "code": 4401}
    _again, connected, _code = await connect(f"/ws/rooms/general/?token={token}")
    assert not connected


async def test_admin_deactivate_action_closes_the_users_sockets_with_4401(connect, alice, bob, admin_client):
    """The "deactivate" action closes the user's sockets, and their token opens no more."""
    socket, _ = await join(connect, alice)
    bob_socket, _ = await join(connect, bob)
    await socket.receive_json_from(timeout=TIMEOUT)  # bob joined
    token = ticket(alice)

    response = await database_sync_to_async(admin_client.post)(
        "/admin/accounts/user/", {"action": "deactivate_users", "_selected_action": [alice.pk]}
    )

    assert response.status_code == 302
    assert await socket.receive_output(timeout=TIMEOUT) == {"type": "websocket.close", "code": 4401}
    assert await bob_socket.receive_nothing(timeout=0.2)
    _again, connected, _code = await connect(f"/ws/rooms/general/?token={token}")
    assert not connected


async def test_archiving_a_room_sends_room_closed_then_4404(connect, alice):
    """Archiving a room tells its members and closes their sockets with 4404."""
    socket, _ = await join(connect, alice)
    room = await database_sync_to_async(Room.objects.get)(slug="general")
    await database_sync_to_async(room_archive)(room=room)
    assert await socket.receive_json_from(timeout=TIMEOUT) == {"type": "room_closed"}
    assert await socket.receive_output(timeout=TIMEOUT) == {"type": "websocket.close", "code": 4404}


async def test_ticking_archived_in_the_admin_sends_room_closed_then_4404(connect, alice, admin_client):
    """Archiving through the room's change form closes its sockets like the archive action does."""
    socket, _ = await join(connect, alice)
    room = await database_sync_to_async(Room.objects.get)(slug="general")
    form = factories.room_change_form(room, archived="on")

    response = await database_sync_to_async(admin_client.post)(f"/admin/rooms/room/{room.pk}/change/", form)

    assert response.status_code == 302
    assert await socket.receive_json_from(timeout=TIMEOUT) == {"type": "room_closed"}
    assert await socket.receive_output(timeout=TIMEOUT) == {"type": "websocket.close", "code": 4404}


async def test_deleted_message_is_announced_and_left_out_of_history(connect, alice, bob, moderator):
    """A moderator's delete reaches the room and the message leaves history."""
    socket, _ = await join(connect, alice)
    await send_text(socket, "regrettable")
    sent = await socket.receive_json_from(timeout=TIMEOUT)
    message = await database_sync_to_async(Message.objects.select_related("room").get)(pk=sent["id"])
    await database_sync_to_async(message_delete)(message=message, by=moderator)
    deleted = {"type": "message_deleted", "id": sent["id"], "seq": sent["seq"] + 1}
    assert await socket.receive_json_from(timeout=TIMEOUT) == deleted
    _later, welcome = await join(connect, bob)
    assert welcome["history"] == []


async def test_people_joining_at_once_learn_of_each_other_exactly_once(connect, alice, bob):
    """Racing joins: each side hears of the other once, in its welcome or as user_joined."""
    (alice_socket, alice_welcome), (bob_socket, bob_welcome) = await asyncio.gather(
        join(connect, alice), join(connect, bob)
    )
    for socket, welcome, other in ((alice_socket, alice_welcome, bob), (bob_socket, bob_welcome, alice)):
        in_welcome = [u["id"] for u in welcome["users"]].count(other.pk)
        announced = 0
        while not await socket.receive_nothing(timeout=0.3):
            frame = await socket.receive_json_from()
            announced += frame["type"] == "user_joined" and frame["user"]["id"] == other.pk
        assert in_welcome + announced == 1


# The socket's life (rooms.realtime.consumer.SocketState).


async def test_a_socket_moves_only_forward_through_its_life():
    """connecting -> entering -> live -> closing; going back, or skipping entering, is a bug that raises."""
    socket = consumer.RoomConsumer()
    socket.writer = SocketWriter(socket.send, UnknownWire(), on_too_slow=socket.too_slow)
    with pytest.raises(RuntimeError, match="CONNECTING to LIVE"):
        socket.move_to(consumer.SocketState.LIVE)
    for state in (consumer.SocketState.ENTERING, consumer.SocketState.LIVE, consumer.SocketState.CLOSING):
        socket.move_to(state)
    with pytest.raises(RuntimeError, match="CLOSING to LIVE"):
        socket.move_to(consumer.SocketState.LIVE)


async def test_frames_delivered_while_the_held_ones_go_out_queue_behind_them():
    """A frame the hub delivers during the flush after the welcome never overtakes an older held one."""
    socket = consumer.RoomConsumer()
    socket.move_to(consumer.SocketState.ENTERING)
    socket.held = deque(({}, {"text": f"held-{n}"}) for n in (1, 2))
    written: list[str] = []

    async def slow_send(message: dict) -> None:
        await asyncio.sleep(0)  # a socket send yields to the event loop
        written.append(message["text"])

    socket.writer = SocketWriter(slow_send, UnknownWire(), on_too_slow=socket.too_slow)
    live = asyncio.create_task(socket.deliver({}, {"text": "live-3"}))
    await socket.go_live()
    await live

    assert written == ["held-1", "held-2", "live-3"]
    assert socket.state is consumer.SocketState.LIVE
