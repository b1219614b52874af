"""Read state (rooms.services.room_read_mark) and the unread and mention counts from it (rooms.unread)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from rooms import services
from rooms.models import Message, Room, RoomRead
from rooms.unread import Unread, room_read_seq, unread_counts
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def reader():
    """The person whose read state and counts the tests look at (handle @alice)."""
    return factories.user_create(username="alice", display_name="Alice")


@pytest.fixture
def bob():
    """Someone else who writes in the rooms."""
    return factories.user_create(username="bob", display_name="Bob")


@pytest.fixture
def notified(monkeypatch):
    """The user.read notices room_read_mark sends, as (user id, room slug, seq)."""
    notices: list[tuple[int, str, int]] = []
    monkeypatch.setattr(
        services.notify,
        "user_read_notify",
        lambda *, user_id, room, seq: notices.append((user_id, room, seq)),
    )
    return notices


def say(room: Room, author, text: str = "hello") -> Message:
    """A message stored through the service (mentions of @handles included)."""
    message, _created = services.message_create(room=room, author=author, text=text)
    return message


def stored_seq(user, room: Room) -> int:
    return RoomRead.objects.get(user=user, room=room).seq


def hide(message: Message) -> None:
    """Mark a message deleted, leaving its Mention rows in place (only the counts' filter hides it)."""
    Message.objects.filter(pk=message.pk).update(deleted_at=timezone.now())


# room_read_mark -----------------------------------------------------------------------


def test_a_first_mark_creates_the_read_state_and_reports_a_move(room, reader, bob, notified):
    """The first mark stores a row at that seq and returns True."""
    for _ in range(3):
        say(room, bob)

    assert services.room_read_mark(user=reader, room=room, seq=2) is True

    assert stored_seq(reader, room) == 2
    assert RoomRead.objects.filter(user=reader).count() == 1


def test_a_mark_past_the_rooms_seq_is_clamped_to_it(room, reader, bob, notified):
    """Seq 99 in a room at seq 3 is stored, and told, as 3."""
    for _ in range(3):
        say(room, bob)

    assert services.room_read_mark(user=reader, room=room, seq=99) is True

    assert stored_seq(reader, room) == 3
    assert notified == [(reader.pk, room.slug, 3)]


def test_a_mark_is_clamped_to_the_rooms_seq_as_stored_not_as_held(room, reader, bob, notified):
    """The room object in hand may be stale: the clamp uses the seq in the database."""
    stale = Room.objects.get(pk=room.pk)  # seq 0
    for _ in range(4):
        say(room, bob)

    services.room_read_mark(user=reader, room=stale, seq=10)

    assert stored_seq(reader, room) == 4


def test_a_negative_seq_is_stored_as_zero(room, reader, bob, notified):
    """A first mark at -5 creates the row at 0."""
    say(room, bob)

    assert services.room_read_mark(user=reader, room=room, seq=-5) is True

    assert stored_seq(reader, room) == 0


def test_a_later_mark_moves_the_read_state_forward(room, reader, bob, notified):
    """Marking 1 then 3 leaves 3, and the second mark reports a move."""
    for _ in range(3):
        say(room, bob)
    services.room_read_mark(user=reader, room=room, seq=1)

    assert services.room_read_mark(user=reader, room=room, seq=3) is True

    assert stored_seq(reader, room) == 3


def test_the_read_state_never_moves_backwards(room, reader, bob, notified):
    """After 3, a mark at 1 or at 3 again returns False and leaves 3."""
    for _ in range(3):
        say(room, bob)
    services.room_read_mark(user=reader, room=room, seq=3)

    assert services.room_read_mark(user=reader, room=room, seq=1) is False
    assert services.room_read_mark(user=reader, room=room, seq=3) is False
    assert services.room_read_mark(user=reader, room=room, seq=-1) is False

    assert stored_seq(reader, room) == 3


def test_the_user_is_notified_only_when_the_read_state_moves(room, reader, bob, notified):
    """Create (2), same (2), back (1), forward (3): two notices, for 2 and for 3."""
    for _ in range(3):
        say(room, bob)

    for seq in (2, 2, 1, 3):
        services.room_read_mark(user=reader, room=room, seq=seq)

    assert notified == [(reader.pk, room.slug, 2), (reader.pk, room.slug, 3)]


def test_read_state_is_kept_per_person_and_room(room, reader, bob, notified):
    """Alice's mark in one room moves neither Bob's nor her own in another room."""
    other = factories.room_create()
    for _ in range(3):
        say(room, bob)
        say(other, bob)
    services.room_read_mark(user=bob, room=room, seq=1)
    services.room_read_mark(user=reader, room=other, seq=1)

    services.room_read_mark(user=reader, room=room, seq=3)

    assert stored_seq(bob, room) == 1
    assert stored_seq(reader, other) == 1
    assert stored_seq(reader, room) == 3


def test_room_read_seq_is_none_until_the_person_enters(room, reader, bob, notified):
    """None before any mark; the stored seq after."""
    say(room, bob)
    assert room_read_seq(user=reader, room=room) is None

    services.room_read_mark(user=reader, room=room, seq=1)

    assert room_read_seq(user=reader, room=room) == 1


# unread_counts ------------------------------------------------------------------------


def test_messages_by_others_after_the_read_seq_are_unread(room, reader, bob, notified):
    """Read up to 2 of Bob's 5 messages: 3 unread, no mentions."""
    for _ in range(5):
        say(room, bob)
    services.room_read_mark(user=reader, room=room, seq=2)

    assert unread_counts(user=reader, rooms=[room]) == {room.slug: Unread(unread=3, mentions=0)}


def test_the_persons_own_messages_are_never_unread(room, reader, bob, notified):
    """After the read seq, Alice's two messages do not count; Bob's one does."""
    services.room_read_mark(user=reader, room=room, seq=0)
    say(room, reader)
    say(room, bob)
    say(room, reader)

    assert unread_counts(user=reader, rooms=[room])[room.slug] == Unread(unread=1, mentions=0)


def test_deleted_messages_are_not_unread(room, reader, bob, notified):
    """Of Bob's three new messages one was deleted: two unread."""
    services.room_read_mark(user=reader, room=room, seq=0)
    say(room, bob)
    gone = say(room, bob)
    say(room, bob)
    services.message_delete(message=gone, by=bob)

    assert unread_counts(user=reader, rooms=[room])[room.slug] == Unread(unread=2, mentions=0)


def test_a_room_never_entered_has_no_unread_but_counts_every_mention(room, reader, bob, notified):
    """No RoomRead: Bob's four messages are not unread, the two naming @alice are mentions."""
    say(room, bob, "hi all")
    say(room, bob, "@alice look")
    say(room, bob, "@bobby is nobody")
    say(room, bob, "and @ALICE again")

    assert unread_counts(user=reader, rooms=[room])[room.slug] == Unread(unread=0, mentions=2)


def test_in_an_entered_room_only_mentions_after_the_read_seq_count(room, reader, bob, notified):
    """A mention at seq 1 was read; the one at seq 3 is both unread and a mention."""
    say(room, bob, "@alice before")
    say(room, bob, "plain")
    services.room_read_mark(user=reader, room=room, seq=2)
    say(room, bob, "@alice after")

    assert unread_counts(user=reader, rooms=[room])[room.slug] == Unread(unread=1, mentions=1)


def test_a_deleted_messages_mention_is_not_counted(room, reader, bob, notified):
    """Even while its Mention row remains, a deleted message's mention counts in no room."""
    entered = factories.room_create()
    services.room_read_mark(user=reader, room=entered, seq=0)
    say(room, bob, "@alice kept")
    hide(say(room, bob, "@alice hidden"))
    say(entered, bob, "@alice kept")
    hide(say(entered, bob, "@alice hidden"))

    counts = unread_counts(user=reader, rooms=[room, entered])

    assert counts[room.slug] == Unread(unread=0, mentions=1)
    assert counts[entered.slug] == Unread(unread=1, mentions=1)


def test_a_message_deleted_through_the_service_counts_neither_as_unread_nor_as_mention(
    room, reader, bob, notified
):
    """message_delete hides a mentioning message from both counts."""
    services.room_read_mark(user=reader, room=room, seq=0)
    message = say(room, bob, "@alice oops")
    services.message_delete(message=message, by=bob)

    assert unread_counts(user=reader, rooms=[room])[room.slug] == Unread(unread=0, mentions=0)


def test_counts_for_several_rooms_come_at_once_in_two_queries(
    room, reader, bob, notified, django_assert_max_num_queries
):
    """Three rooms (entered, never entered, quiet) each get their own counts, in at most two queries."""
    never_entered, quiet = factories.room_create(), factories.room_create()
    services.room_read_mark(user=reader, room=room, seq=0)
    services.room_read_mark(user=reader, room=quiet, seq=0)
    say(room, bob, "one")
    say(room, bob, "@alice two")
    say(never_entered, bob, "@alice three")
    say(never_entered, bob, "four")
    rooms = list(Room.objects.filter(pk__in=[room.pk, never_entered.pk, quiet.pk]))

    with django_assert_max_num_queries(2):
        counts = unread_counts(user=reader, rooms=rooms)

    assert counts == {
        room.slug: Unread(unread=2, mentions=1),
        never_entered.slug: Unread(unread=0, mentions=1),
        quiet.slug: Unread(unread=0, mentions=0),
    }


def test_another_persons_read_state_does_not_change_the_counts(room, reader, bob, notified):
    """Bob having read everything leaves Alice's unread as her own read seq says."""
    carol = factories.user_create(username="carol")
    for _ in range(3):
        say(room, carol)
    services.room_read_mark(user=bob, room=room, seq=3)
    services.room_read_mark(user=reader, room=room, seq=1)

    assert unread_counts(user=reader, rooms=[room])[room.slug] == Unread(unread=2, mentions=0)


# The room page ------------------------------------------------------------------------


@pytest.fixture
def general():
    """The seeded General room."""
    return Room.objects.get(slug="general")


@pytest.fixture
def signed_in(client, reader):
    """A browser signed in as the reader."""
    client.force_login(reader)
    return client


def test_a_first_visit_to_a_room_marks_it_read_up_to_its_seq(signed_in, reader, bob, general, notified):
    """Before the first visit there is no RoomRead; after it, one at the room's seq, shown on the page."""
    for _ in range(3):
        say(general, bob)
    assert room_read_seq(user=reader, room=general) is None

    response = signed_in.get("/rooms/general/")

    assert response.status_code == 200
    assert stored_seq(reader, general) == 3
    assert 'data-read-seq="3"' in response.content.decode()


def test_a_second_visit_leaves_the_read_state_where_it_was(signed_in, reader, bob, general, notified):
    """Messages after the first visit stay unread: the page shows the old read seq and the row keeps it."""
    say(general, bob)
    signed_in.get("/rooms/general/")
    say(general, bob)
    say(general, bob)

    response = signed_in.get("/rooms/general/")

    assert stored_seq(reader, general) == 1
    assert 'data-read-seq="1"' in response.content.decode()
    assert unread_counts(user=reader, rooms=[general])[general.slug] == Unread(unread=2, mentions=0)
