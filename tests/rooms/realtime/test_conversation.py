"""Editing, deleting and reacting over the real ASGI stack: who hears what, who is refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from rooms.models import Message, Reaction, Room
from rooms.services import user_mute
from tests.factories import user_create
from tests.rooms.sockets import TIMEOUT, join, say, send_text

# serialized_rollback: keep the seeded rooms that a transactional flush would wipe.
pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


async def change(socket, kind: str, message_id, **fields) -> None:
    """Send an edit, delete or react frame about message `message_id`."""
    await socket.send_json_to({"type": kind, "id": message_id, **fields})


async def refusal(socket) -> dict:
    """The next frame, which must be an error frame."""
    frame = await socket.receive_json_from(timeout=TIMEOUT)
    assert frame["type"] == "error", frame
    return frame


async def both_receive(first, second) -> dict:
    """The next frame on two sockets, which must be the same."""
    frame = await first.receive_json_from(timeout=TIMEOUT)
    assert await second.receive_json_from(timeout=TIMEOUT) == frame
    return frame


async def stored(message_id: int) -> Message:
    return await database_sync_to_async(Message.objects.get)(pk=message_id)


async def age(message_id: int, seconds: float) -> None:
    """Push a message's creation back by `seconds`."""
    created_at = timezone.now() - timedelta(seconds=seconds)
    await database_sync_to_async(Message.objects.filter(pk=message_id).update)(created_at=created_at)


async def mute(user) -> None:
    """A moderator mutes `user` in General for ten minutes."""
    room = await database_sync_to_async(Room.objects.get)(slug="general")
    moderator = await database_sync_to_async(user_create)(is_staff=True)
    until = timezone.now() + timedelta(minutes=10)
    await database_sync_to_async(user_mute)(room=room, user=user, until=until, moderator=moderator)


# Editing -----------------------------------------------------------------------------


async def test_an_edit_reaches_everyone_with_the_next_seq(alice_and_bob, bob):
    """Alice edits her message: she and Bob receive message_edited, seq one past the message's."""
    alice_socket, bob_socket = alice_and_bob
    sent = await say(alice_socket, bob_socket, "helo", client_id="c-1")

    await change(alice_socket, "edit", sent["id"], text="hello @bob")
    edited = await both_receive(alice_socket, bob_socket)

    assert edited["type"] == "message_edited"
    assert edited["id"] == sent["id"]
    assert edited["seq"] == sent["seq"] + 1
    assert edited["text"] == "hello @bob"
    assert edited["mentions"] == [bob.pk]
    assert edited["edited_at"].endswith("Z")
    assert (await stored(sent["id"])).text == "hello @bob"


async def test_editing_someone_elses_message_is_refused_and_nobody_hears(alice_and_bob):
    """Bob editing Alice's message gets not_author naming the message; Alice hears nothing."""
    alice_socket, bob_socket = alice_and_bob
    sent = await say(alice_socket, bob_socket, "mine", client_id="c-1")

    await change(bob_socket, "edit", sent["id"], text="yours now")
    error = await refusal(bob_socket)

    assert error["code"] == "not_author"
    assert error["id"] == sent["id"]
    assert error["detail"]
    assert await alice_socket.receive_nothing(timeout=0.2)
    assert (await stored(sent["id"])).text == "mine"


async def test_an_edit_after_the_window_is_refused(alice_and_bob, settings):
    """A message older than CHAT_EDIT_WINDOW gets edit_window_over; nothing is broadcast."""
    settings.CHAT_EDIT_WINDOW = 60
    alice_socket, bob_socket = alice_and_bob
    sent = await say(alice_socket, bob_socket, "old news", client_id="c-1")
    await age(sent["id"], 120)

    await change(alice_socket, "edit", sent["id"], text="new news")
    error = await refusal(alice_socket)

    assert (error["code"], error["id"]) == ("edit_window_over", sent["id"])
    assert await bob_socket.receive_nothing(timeout=0.2)
    assert (await stored(sent["id"])).text == "old news"


async def test_an_edit_to_the_same_text_is_no_event_but_answers_the_editor(alice_and_bob):
    """Editing a message to the text it has is no room event; the editor alone hears it as it stands."""
    alice_socket, bob_socket = alice_and_bob
    sent = await say(alice_socket, bob_socket, "same", client_id="c-1")

    await change(alice_socket, "edit", sent["id"], text=" same ")

    answer = await alice_socket.receive_json_from(timeout=TIMEOUT)
    assert answer == {
        "type": "message_edited",
        "id": sent["id"],
        "seq": sent["seq"],
        "text": "same",
        "edited_at": None,
        "mentions": [],
    }
    assert await alice_socket.receive_nothing(timeout=0.2)
    assert await bob_socket.receive_nothing(timeout=0.2)
    assert (await stored(sent["id"])).edited_at is None


async def test_an_edit_to_nothing_is_refused_as_empty(alice_and_bob):
    """An edit whose text shows nothing gets `empty`, naming the message."""
    alice_socket, bob_socket = alice_and_bob
    sent = await say(alice_socket, bob_socket, "something", client_id="c-1")

    await change(alice_socket, "edit", sent["id"], text="   ")
    error = await refusal(alice_socket)

    assert (error["code"], error["id"]) == ("empty", sent["id"])
    assert await bob_socket.receive_nothing(timeout=0.2)


# Deleting ----------------------------------------------------------------------------


async def test_the_author_deletes_their_message_for_everyone(alice_and_bob):
    """Alice deletes her own message: both receive message_deleted with the next seq."""
    alice_socket, bob_socket = alice_and_bob
    sent = await say(alice_socket, bob_socket, "oops", client_id="c-1")

    await change(alice_socket, "delete", sent["id"])
    deleted = await both_receive(alice_socket, bob_socket)

    assert deleted == {"type": "message_deleted", "id": sent["id"], "seq": sent["seq"] + 1}
    assert (await stored(sent["id"])).deleted_at is not None


async def test_deleting_someone_elses_message_is_refused(alice_and_bob):
    """Bob deleting Alice's message gets not_author; the message stays and Alice hears nothing."""
    alice_socket, bob_socket = alice_and_bob
    sent = await say(alice_socket, bob_socket, "keep me", client_id="c-1")

    await change(bob_socket, "delete", sent["id"])
    error = await refusal(bob_socket)

    assert (error["code"], error["id"]) == ("not_author", sent["id"])
    assert await alice_socket.receive_nothing(timeout=0.2)
    assert (await stored(sent["id"])).deleted_at is None


async def test_a_moderator_socket_deletes_anyones_message(connect, alice_and_bob, moderator):
    """A staff member's delete frame removes Alice's message for everyone."""
    alice_socket, bob_socket = alice_and_bob
    sent = await say(alice_socket, bob_socket, "against the rules", client_id="c-1")
    mod_socket, _ = await join(connect, moderator)
    assert (await both_receive(alice_socket, bob_socket))["type"] == "user_joined"

    await change(mod_socket, "delete", sent["id"])

    deleted = {"type": "message_deleted", "id": sent["id"], "seq": sent["seq"] + 1}
    assert await mod_socket.receive_json_from(timeout=TIMEOUT) == deleted
    assert await both_receive(alice_socket, bob_socket) == deleted
    assert (await stored(sent["id"])).deleted_at is not None


async def test_changing_a_deleted_message_is_not_found(alice_and_bob):
    """After a delete, editing, reacting to or deleting it again is not_found."""
    alice_socket, bob_socket = alice_and_bob
    sent = await say(alice_socket, bob_socket, "gone soon", client_id="c-1")
    await change(alice_socket, "delete", sent["id"])
    await both_receive(alice_socket, bob_socket)

    for kind, fields in [("edit", {"text": "back"}), ("react", {"emoji": "👍"}), ("delete", {})]:
        await change(alice_socket, kind, sent["id"], **fields)
        error = await refusal(alice_socket)
        assert (error["code"], error["id"]) == ("not_found", sent["id"]), kind
    assert await bob_socket.receive_nothing(timeout=0.2)


# Reactions ---------------------------------------------------------------------------


async def test_a_reaction_reaches_everyone_and_a_second_one_takes_it_back(alice_and_bob, bob):
    """Bob reacts: both receive `reactions`; reacting again sends it empty."""
    alice_socket, bob_socket = alice_and_bob
    sent = await say(alice_socket, bob_socket, "good news", client_id="c-1")

    await change(bob_socket, "react", sent["id"], emoji="🎉")
    on = await both_receive(alice_socket, bob_socket)
    await change(bob_socket, "react", sent["id"], emoji="🎉")
    off = await both_receive(alice_socket, bob_socket)

    assert on == {
        "type": "reactions",
        "id": sent["id"],
        "seq": sent["seq"] + 1,
        "reactions": [{"emoji": "🎉", "count": 1, "user_ids": [bob.pk]}],
    }
    assert off == {"type": "reactions", "id": sent["id"], "seq": sent["seq"] + 2, "reactions": []}
    assert not await database_sync_to_async(Reaction.objects.exists)()


async def test_a_new_emoji_past_the_limit_is_too_many_reactions(alice_and_bob, settings):
    """With CHAT_MAX_REACTIONS = 1, a second distinct emoji is refused; joining the first is not."""
    settings.CHAT_MAX_REACTIONS = 1
    alice_socket, bob_socket = alice_and_bob
    sent = await say(alice_socket, bob_socket, "vote", client_id="c-1")
    await change(alice_socket, "react", sent["id"], emoji="👍")
    await both_receive(alice_socket, bob_socket)

    await change(bob_socket, "react", sent["id"], emoji="👎")
    error = await refusal(bob_socket)
    assert (error["code"], error["id"]) == ("too_many_reactions", sent["id"])
    assert await alice_socket.receive_nothing(timeout=0.2)

    await change(bob_socket, "react", sent["id"], emoji="👍")
    assert (await both_receive(alice_socket, bob_socket))["reactions"][0]["count"] == 2


async def test_a_reaction_that_is_not_one_emoji_is_invalid_emoji(alice_and_bob):
    """A letter for a reaction gets invalid_emoji naming the message."""
    alice_socket, bob_socket = alice_and_bob
    sent = await say(alice_socket, bob_socket, "react to me", client_id="c-1")

    await change(bob_socket, "react", sent["id"], emoji="a")
    error = await refusal(bob_socket)

    assert (error["code"], error["id"]) == ("invalid_emoji", sent["id"])
    assert await alice_socket.receive_nothing(timeout=0.2)


@pytest.mark.parametrize("kind", ["edit", "delete", "react"])
async def test_a_change_to_an_unknown_message_is_not_found(connect, alice, kind):
    """An id no message in the room has gets not_found with that id."""
    socket, _ = await join(connect, alice)

    await change(socket, kind, 999_999, text="x", emoji="👍")
    error = await refusal(socket)

    assert (error["code"], error["id"]) == ("not_found", 999_999)


async def test_a_message_of_another_room_is_not_found(connect, alice):
    """An id of a message in Sports is not found from General."""
    sports, _ = await join(connect, alice, room="sports")
    await send_text(sports, "over here")
    elsewhere = await sports.receive_json_from(timeout=TIMEOUT)
    general, _ = await join(connect, alice)

    await change(general, "delete", elsewhere["id"])

    assert (await refusal(general))["code"] == "not_found"
    assert (await stored(elsewhere["id"])).deleted_at is None


@pytest.mark.parametrize("bad_id", [True, "3", 0, -1, 1.5, None])
@pytest.mark.parametrize("kind", ["edit", "delete", "react"])
async def test_a_change_whose_id_is_not_a_message_id_is_an_invalid_frame(alice_and_bob, kind, bad_id):
    """An id that is not a positive whole number (true, "3", 0, ...) is invalid_frame; the socket goes on."""
    alice_socket, bob_socket = alice_and_bob
    sent = await say(alice_socket, bob_socket, "target", client_id="c-1")

    await change(alice_socket, kind, bad_id, text="changed", emoji="👍")
    error = await refusal(alice_socket)

    assert error["code"] == "invalid_frame"
    assert "id" not in error
    assert await bob_socket.receive_nothing(timeout=0.2)
    message = await stored(sent["id"])
    assert (message.text, message.deleted_at, message.reactions) == ("target", None, [])
    await change(alice_socket, "react", sent["id"], emoji="👍")
    assert (await alice_socket.receive_json_from(timeout=TIMEOUT))["type"] == "reactions"


async def test_a_change_frame_without_its_field_is_an_invalid_frame(alice_and_bob):
    """An edit with no text, or a react with no emoji, gets invalid_frame."""
    alice_socket, bob_socket = alice_and_bob
    sent = await say(alice_socket, bob_socket, "target", client_id="c-1")

    for kind in ["edit", "react"]:
        await change(alice_socket, kind, sent["id"])
        assert (await refusal(alice_socket))["code"] == "invalid_frame"
    assert await bob_socket.receive_nothing(timeout=0.2)


# Mutes and rate limits ---------------------------------------------------------------


async def test_a_muted_user_may_delete_but_not_edit_or_react(alice_and_bob, alice):
    """Muted Alice's edit and react get `muted`; her delete still goes through to everyone."""
    alice_socket, bob_socket = alice_and_bob
    sent = await say(alice_socket, bob_socket, "said in anger", client_id="c-1")
    await mute(alice)
    assert await alice_socket.receive_nothing(timeout=0.3)  # the mute reaches the socket quietly

    await change(alice_socket, "edit", sent["id"], text="said calmly")
    edit_error = await refusal(alice_socket)
    await change(alice_socket, "react", sent["id"], emoji="😡")
    react_error = await refusal(alice_socket)
    assert (edit_error["code"], edit_error["id"]) == ("muted", sent["id"])
    assert (react_error["code"], react_error["id"]) == ("muted", sent["id"])
    assert await bob_socket.receive_nothing(timeout=0.2)

    await change(alice_socket, "delete", sent["id"])
    deleted = await both_receive(alice_socket, bob_socket)
    assert deleted == {"type": "message_deleted", "id": sent["id"], "seq": sent["seq"] + 1}
    message = await stored(sent["id"])
    assert (message.text, message.reactions) == ("said in anger", [])


async def test_changes_past_the_rate_limit_are_rate_limited_apart_from_messages(alice_and_bob, settings):
    """Past CHAT_RATE_LIMIT changes a change gets rate_limited with retry_after; messages still go."""
    settings.CHAT_RATE_LIMIT = 2
    settings.CHAT_RATE_WINDOW = 10.0
    alice_socket, bob_socket = alice_and_bob
    sent = await say(alice_socket, bob_socket, "popular", client_id="c-1")
    for emoji in ["👍", "🎉"]:
        await change(bob_socket, "react", sent["id"], emoji=emoji)
        await both_receive(alice_socket, bob_socket)

    await change(bob_socket, "react", sent["id"], emoji="🔥")
    error = await refusal(bob_socket)

    assert (error["code"], error["id"]) == ("rate_limited", sent["id"])
    assert 0 < error["retry_after"] <= 10.0
    assert await alice_socket.receive_nothing(timeout=0.2)
    assert [r["emoji"] for r in (await stored(sent["id"])).reactions] == ["👍", "🎉"]
    # Bob's messages have their own count: he can still talk.
    assert (await say(bob_socket, alice_socket, "still here", client_id="b-1"))["text"] == "still here"


# Resuming ----------------------------------------------------------------------------


async def test_a_resume_after_an_edit_replays_the_message_as_it_reads_now(connect, alice_and_bob, alice):
    """A socket resuming from the message's seq gets it again, edited, at the edit's seq."""
    alice_socket, bob_socket = alice_and_bob
    sent = await say(alice_socket, bob_socket, "frist", client_id="c-1")
    await change(alice_socket, "edit", sent["id"], text="first")
    edited = await both_receive(alice_socket, bob_socket)
    await change(bob_socket, "react", sent["id"], emoji="👍")
    reacted = await both_receive(alice_socket, bob_socket)
    epoch = (await database_sync_to_async(Room.objects.get)(slug="general")).epoch

    _socket, welcome = await join(connect, alice, query=f"&since={sent['seq']}&epoch={epoch}")

    assert welcome["recovered"] is True
    assert welcome["history"] == []
    assert len(welcome["events"]) == 1
    replayed = welcome["events"][0]
    assert replayed["type"] == "message"
    assert replayed["id"] == sent["id"]
    assert replayed["text"] == "first"
    assert replayed["edited_at"] == edited["edited_at"]
    assert replayed["reactions"] == reacted["reactions"]
    assert replayed["seq"] == reacted["seq"] == sent["seq"] + 2
    assert welcome["seq"] == reacted["seq"]


async def test_a_resume_from_after_a_delete_replays_no_text(connect, alice_and_bob, alice):
    """A socket resuming from before a deleted message gets only message_deleted."""
    alice_socket, bob_socket = alice_and_bob
    sent = await say(alice_socket, bob_socket, "top secret", client_id="c-1")
    await change(alice_socket, "delete", sent["id"])
    deleted = await both_receive(alice_socket, bob_socket)
    epoch = (await database_sync_to_async(Room.objects.get)(slug="general")).epoch

    _socket, welcome = await join(connect, alice, query=f"&since={sent['seq'] - 1}&epoch={epoch}")

    assert welcome["events"] == [deleted]
    assert "top secret" not in str(welcome)


async def test_someone_joining_after_an_edit_sees_the_new_text(connect, alice, bob, moderator):
    """A fresh socket's welcome history shows the edited text, even when history was built before the edit."""
    alice_socket, _ = await join(connect, alice)
    await send_text(alice_socket, "before", client_id="c-1")
    sent = await alice_socket.receive_json_from(timeout=TIMEOUT)
    bob_socket, bob_welcome = await join(connect, bob)  # builds the room's welcome history
    assert [m["text"] for m in bob_welcome["history"]] == ["before"]
    await alice_socket.receive_json_from(timeout=TIMEOUT)  # bob joined
    await change(alice_socket, "edit", sent["id"], text="after")
    await both_receive(alice_socket, bob_socket)

    _socket, welcome = await join(connect, moderator)

    assert [m["text"] for m in welcome["history"]] == ["after"]
