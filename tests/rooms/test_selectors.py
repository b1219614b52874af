"""rooms.selectors: history and rooms as people see them."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from rooms import selectors
from rooms.models import RoomMute
from tests import factories

pytestmark = pytest.mark.django_db


def ids(frames) -> list[int]:
    """The message ids of a list of frames, in order."""
    return [frame["id"] for frame in frames]


def test_latest_returns_the_newest_fifty_oldest_first(room, author):
    """With 55 messages, history is the last 50, oldest at the top."""
    messages = factories.messages_insert(room=room, author=author, count=55)

    frames = selectors.message_list_latest(room=room)

    assert ids(frames) == [m.pk for m in messages[5:]]
    assert frames[0]["text"] == "m6"
    assert frames[-1]["text"] == "m55"


def test_latest_returns_everything_in_a_quiet_room(room, author):
    """A room with few messages shows them all, oldest first."""
    messages = factories.messages_insert(room=room, author=author, count=3)

    assert ids(selectors.message_list_latest(room=room)) == [m.pk for m in messages]


def test_latest_is_empty_for_a_new_room(room):
    """A room nobody wrote in has no history."""
    assert selectors.message_list_latest(room=room) == []


def test_latest_excludes_deleted_messages(room, author):
    """Messages a moderator deleted are not in history."""
    first, second, third = factories.messages_insert(room=room, author=author, count=3)
    second.deleted_at = timezone.now()
    second.save(update_fields=["deleted_at"])

    assert ids(selectors.message_list_latest(room=room)) == [first.pk, third.pk]


def test_latest_only_shows_this_rooms_messages(room, author):
    """Another room's messages never leak into this room's history."""
    mine = factories.message_insert(room=room, author=author)
    factories.message_insert(room=factories.room_create(), author=author)

    assert ids(selectors.message_list_latest(room=room)) == [mine.pk]


def test_latest_before_pages_further_back(room, author):
    """`before` gives the messages older than that id, newest `limit` of them, oldest first."""
    messages = factories.messages_insert(room=room, author=author, count=10)

    page = selectors.message_list_latest(room=room, before=messages[6].pk, limit=3)

    assert ids(page) == [m.pk for m in messages[3:6]]


def test_latest_before_the_first_message_is_empty(room, author):
    """Paging back past the first message gives nothing."""
    messages = factories.messages_insert(room=room, author=author, count=3)

    assert selectors.message_list_latest(room=room, before=messages[0].pk) == []


def test_latest_frames_describe_the_message(room, author):
    """A history frame carries the message's room, author, text, time, client_id and seq."""
    message = factories.message_insert(room=room, author=author, text="hello", client_id="c-9")

    (frame,) = selectors.message_list_latest(room=room)

    assert frame == {
        "type": "message",
        "id": message.pk,
        "room": room.slug,
        "user": {"id": author.pk, "name": "Alice"},
        "text": "hello",
        "sent_at": frame["sent_at"],
        "client_id": "c-9",
        "seq": message.seq,
        "mentions": [],
    }
    assert frame["sent_at"].endswith("Z")


def test_after_returns_the_messages_after_an_id_oldest_first(room, author):
    """A reconnecting client gets every message after the last one it saw."""
    messages = factories.messages_insert(room=room, author=author, count=6)

    frames, has_more = selectors.message_list_after(room=room, after=messages[2].pk)

    assert ids(frames) == [m.pk for m in messages[3:]]
    assert has_more is False


def test_after_the_newest_message_is_empty(room, author):
    """A client that saw everything gets nothing more."""
    messages = factories.messages_insert(room=room, author=author, count=3)

    assert selectors.message_list_after(room=room, after=messages[-1].pk) == ([], False)


def test_after_is_not_capped_at_fifty(room, author):
    """A client that missed more than 50 messages gets all of them."""
    messages = factories.messages_insert(room=room, author=author, count=60)

    frames, has_more = selectors.message_list_after(room=room, after=0)

    assert ids(frames) == [m.pk for m in messages]
    assert has_more is False


def test_after_excludes_deleted_messages(room, author):
    """Messages deleted while a client was away are not replayed."""
    first, second, third = factories.messages_insert(room=room, author=author, count=3)
    third.deleted_at = timezone.now()
    third.save(update_fields=["deleted_at"])

    frames, _has_more = selectors.message_list_after(room=room, after=first.pk)

    assert ids(frames) == [second.pk]


def test_after_keeps_the_newest_resume_max_and_says_older_ones_were_left_out(room, author, monkeypatch):
    """Past RESUME_MAX missed messages, the newest come back and has_more is True."""
    monkeypatch.setattr(selectors, "RESUME_MAX", 3)
    messages = factories.messages_insert(room=room, author=author, count=5)

    truncated, truncated_has_more = selectors.message_list_after(room=room, after=0)
    exact, exact_has_more = selectors.message_list_after(room=room, after=messages[1].pk)

    assert ids(truncated) == [m.pk for m in messages[2:]]
    assert truncated_has_more is True
    assert ids(exact) == [m.pk for m in messages[2:]]
    assert exact_has_more is False


def test_around_skips_deleted_neighbours_and_other_rooms_and_still_fills_the_page(room, author):
    """Around a message: its room's nearest visible messages, as many as asked, the message in the middle."""
    earlier = factories.messages_insert(room=room, author=author, count=5)
    factories.messages_insert(room=factories.room_create(slug="elsewhere"), author=author, count=3)
    later = factories.messages_insert(room=room, author=author, count=5)
    for gone in (earlier[3], later[1]):
        gone.deleted_at = timezone.now()
        gone.save(update_fields=["deleted_at"])

    stretch = selectors.message_list_around(room=room, message_id=earlier[4].pk, limit=5)

    assert ids(stretch.messages) == [m.pk for m in (earlier[1], earlier[2], earlier[4], later[0], later[2])]
    assert (stretch.has_older, stretch.has_newer) == (True, True)


def test_around_one_message_is_that_message_alone(room, author):
    """A page of one around a message is the message; what lies either side is only said."""
    messages = factories.messages_insert(room=room, author=author, count=3)

    stretch = selectors.message_list_around(room=room, message_id=messages[1].pk, limit=1)

    assert ids(stretch.messages) == [messages[1].pk]
    assert (stretch.has_older, stretch.has_newer) == (True, True)


def test_around_a_deleted_message_is_none(room, author):
    """A result deleted since the search has no stretch: the page says so instead of showing another."""
    [gone] = factories.messages_insert(room=room, author=author, count=1)
    gone.deleted_at = timezone.now()
    gone.save(update_fields=["deleted_at"])

    assert selectors.message_list_around(room=room, message_id=gone.pk) is None


def test_following_pages_forward_oldest_first(room, author):
    """After an id: the next `limit` messages, oldest first, and whether more follow."""
    messages = factories.messages_insert(room=room, author=author, count=5)

    frames, has_newer = selectors.message_list_following(room=room, after=messages[0].pk, limit=3)
    rest, no_more = selectors.message_list_following(room=room, after=messages[3].pk, limit=3)

    assert (ids(frames), has_newer) == ([m.pk for m in messages[1:4]], True)
    assert (ids(rest), no_more) == ([messages[4].pk], False)


def test_message_get_by_client_id_finds_the_authors_message_in_the_room(room, author):
    """The lookup matches room, author and client_id together."""
    mine = factories.message_insert(room=room, author=author, client_id="c-1")
    factories.message_insert(room=room, author=factories.user_create(), client_id="c-2")
    factories.message_insert(room=factories.room_create(), author=author, client_id="c-3")

    assert selectors.message_get_by_client_id(room=room, author=author, client_id="c-1") == mine
    assert selectors.message_get_by_client_id(room=room, author=author, client_id="c-2") is None
    assert selectors.message_get_by_client_id(room=room, author=author, client_id="c-3") is None


def test_message_get_by_client_id_leaves_out_deleted_messages_unless_asked(room, author):
    """A deleted message is not found, except with include_deleted."""
    gone = factories.message_insert(room=room, author=author, client_id="c-1", deleted_at=timezone.now())

    assert selectors.message_get_by_client_id(room=room, author=author, client_id="c-1") is None
    found = selectors.message_get_by_client_id(
        room=room, author=author, client_id="c-1", include_deleted=True
    )
    assert found == gone


def test_room_get_active_finds_an_active_room(room):
    """An active room is found by its slug."""
    assert selectors.room_get_active(slug=room.slug) == room


def test_room_get_active_is_none_for_an_archived_room():
    """An archived room is not active."""
    archived = factories.room_create(archived=True)

    assert selectors.room_get_active(slug=archived.slug) is None


def test_room_get_active_is_none_for_an_unknown_slug():
    """A slug no room has gives None."""
    assert selectors.room_get_active(slug="no-such-room") is None


def test_room_list_active_lists_rooms_by_name_without_archived_ones():
    """The dashboard's rooms: active ones, by name."""
    factories.room_create(slug="zz-archived", name="Aardvarks", archived=True)

    names = [room.name for room in selectors.room_list_active()]

    assert names == sorted(names)
    assert {"General", "Music", "Sports"} <= set(names)
    assert "Aardvarks" not in names


def test_user_get_active_ignores_inactive_users():
    """A deactivated user cannot be looked up as active."""
    active = factories.user_create()
    inactive = factories.user_create(is_active=False)

    assert selectors.user_get_active(user_id=active.pk) == active
    assert selectors.user_get_active(user_id=inactive.pk) is None


def texts(history: selectors.History) -> list[str]:
    return [frame["text"] for frame in history.frames]


def test_entry_reads_the_room_its_latest_history_and_no_mute(room, author):
    """Entering a room reads the room, its latest visible messages oldest first, and no mute."""
    messages = factories.messages_insert(room=room, author=author, count=3)

    entry = selectors.room_entry(slug=room.slug, user_id=author.pk, resume=selectors.Resume())

    assert entry.room == room
    assert ids(entry.history.frames) == [m.pk for m in messages]
    assert json.loads(entry.history.encoded) == list(entry.history.frames)
    assert entry.has_more is False
    assert entry.muted_until is None


def test_entry_is_none_for_an_archived_room(author):
    """An archived room cannot be entered."""
    archived = factories.room_create(archived=True)

    assert selectors.room_entry(slug=archived.slug, user_id=author.pk, resume=selectors.Resume()) is None


def test_entry_after_an_id_reads_only_newer_messages(room, author):
    """A resuming socket reads what came after the id it last saw."""
    first, *newer = factories.messages_insert(room=room, author=author, count=3)

    entry = selectors.room_entry(slug=room.slug, user_id=author.pk, resume=selectors.Resume(after=first.pk))

    assert ids(entry.history.frames) == [m.pk for m in newer]


def test_latest_history_follows_new_and_deleted_messages(room, author):
    """The welcome's history shows a message posted or deleted since the last joiner."""
    first, _second = factories.messages_insert(room=room, author=author, count=2)
    assert texts(selectors.history_latest(room=room)) == ["m1", "m2"]

    factories.message_insert(room=room, author=author, text="news")
    assert texts(selectors.history_latest(room=room)) == ["m1", "m2", "news"]

    first.deleted_at = timezone.now()
    first.save(update_fields=["deleted_at"])
    assert texts(selectors.history_latest(room=room)) == ["m2", "news"]


def test_latest_history_is_not_fooled_by_a_reused_id(room, author):
    """A new message that takes a hard-deleted message's id shows its own text."""
    factories.message_insert(room=room, author=author, text="kept")
    gone = factories.message_insert(room=room, author=factories.user_create(), text="from a deleted user")
    assert texts(selectors.history_latest(room=room)) == ["kept", "from a deleted user"]
    gone_id = gone.pk
    gone.author.delete()

    factories.message_insert(room=room, author=author, text="new", id=gone_id)

    assert texts(selectors.history_latest(room=room)) == ["kept", "new"]


def test_entry_carries_a_running_mute(room, author):
    """A socket entering a room where its user is muted learns until when."""
    until = timezone.now() + timedelta(minutes=5)
    RoomMute.objects.create(room=room, user=author, until=until)

    assert (
        selectors.room_entry(slug=room.slug, user_id=author.pk, resume=selectors.Resume()).muted_until
        == until
    )


def entry(room, author, **resume) -> selectors.RoomEntry:
    found = selectors.room_entry(slug=room.slug, user_id=author.pk, resume=selectors.Resume(**resume))
    assert found is not None
    return found


@pytest.mark.parametrize("resume", [{"since": 0}, {"after": 0}], ids=["since", "after"])
def test_a_resume_page_is_built_once_while_the_room_is_unchanged(room, author, resume):
    """A reconnect storm (or one client reconnecting in a loop) reads and encodes each page once."""
    factories.messages_insert(room=room, author=author, count=3)
    room.refresh_from_db()
    resume = {**resume, "epoch": room.epoch} if "since" in resume else resume

    first, again = entry(room, author, **resume), entry(room, author, **resume)
    factories.messages_insert(room=room, author=author, count=1)
    changed = entry(room, author, **resume)

    page = (lambda e: e.events) if "since" in resume else (lambda e: e.history)
    assert page(again) is page(first)
    assert page(changed) is not page(first)
    assert len(page(changed).frames) == 4
