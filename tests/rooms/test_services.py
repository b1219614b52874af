"""rooms.services: the writes behind sending, deleting and archiving."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rooms import selectors, services
from rooms.exceptions import EmptyMessage, MessageTooLong
from rooms.models import Mention, Message, Room
from tests import factories
from tests.servers import BASE_DIR, manage, server_env

pytestmark = pytest.mark.django_db


def test_message_create_stores_the_stripped_text(room, author):
    """Leading and trailing whitespace is dropped before the message is stored."""
    message, created = services.message_create(room=room, author=author, text="  hello there \n")

    assert created is True
    message.refresh_from_db()
    assert message.text == "hello there"
    assert message.room == room
    assert message.author == author


def test_message_create_keeps_inner_whitespace_and_newlines(room, author):
    """Only the ends are stripped; line breaks inside a message stay."""
    message, _ = services.message_create(room=room, author=author, text="\tline one\nline two  ")

    assert message.text == "line one\nline two"


@pytest.mark.parametrize("text", ["", " ", "\n\t  \r\n"])
def test_message_create_refuses_empty_text(room, author, text):
    """Empty or whitespace-only text raises EmptyMessage and stores nothing."""
    with pytest.raises(EmptyMessage) as refused:
        services.message_create(room=room, author=author, text=text)

    assert refused.value.code == "empty"
    assert not Message.objects.filter(room=room).exists()


def test_message_create_accepts_text_of_exactly_the_maximum_length(settings, room, author):
    """A message of CHAT_MAX_MESSAGE_LENGTH characters is stored."""
    settings.CHAT_MAX_MESSAGE_LENGTH = 10

    message, created = services.message_create(room=room, author=author, text="x" * 10)

    assert created is True
    assert message.text == "x" * 10


def test_message_create_measures_length_after_stripping(settings, room, author):
    """Surrounding whitespace does not count against the limit."""
    settings.CHAT_MAX_MESSAGE_LENGTH = 10

    message, _ = services.message_create(room=room, author=author, text="   " + "x" * 10 + "   ")

    assert message.text == "x" * 10


def test_message_create_refuses_text_over_the_maximum_length(settings, room, author):
    """One character over CHAT_MAX_MESSAGE_LENGTH raises MessageTooLong and stores nothing."""
    settings.CHAT_MAX_MESSAGE_LENGTH = 10

    with pytest.raises(MessageTooLong) as refused:
        services.message_create(room=room, author=author, text="x" * 11)

    assert refused.value.code == "too_long"
    assert "10" in refused.value.detail
    assert not Message.objects.filter(room=room).exists()


def test_message_create_default_limit_is_2000_characters(room, author):
    """By default 2000 characters pass and 2001 do not."""
    services.message_create(room=room, author=author, text="x" * 2000)

    with pytest.raises(MessageTooLong):
        services.message_create(room=room, author=author, text="x" * 2001)


def test_same_client_id_twice_stores_one_message(room, author):
    """A retried send with the same client_id returns the stored message, created False."""
    first, first_created = services.message_create(room=room, author=author, text="hi", client_id="c-1")
    again, again_created = services.message_create(room=room, author=author, text="hi", client_id="c-1")

    assert first_created is True
    assert again_created is False
    assert again.pk == first.pk
    assert Message.objects.filter(room=room).count() == 1


def test_retry_returns_the_stored_text_not_the_retried_one(room, author):
    """The stored message wins: a retry never rewrites what was sent."""
    first, _ = services.message_create(room=room, author=author, text="original", client_id="c-1")
    again, _ = services.message_create(room=room, author=author, text="changed", client_id="c-1")

    assert again.pk == first.pk
    assert again.text == "original"


def test_retry_of_a_deleted_message_returns_it_deleted_and_stores_nothing(room, author):
    """A retry of a message a moderator deleted is not stored again; the deleted one comes back, marked."""
    first, _ = services.message_create(room=room, author=author, text="regrettable", client_id="c-1")
    services.message_delete(message=first, by=factories.user_create(is_staff=True))

    again, created = services.message_create(room=room, author=author, text="regrettable", client_id="c-1")

    assert created is False
    assert again.pk == first.pk
    assert again.deleted_at is not None
    assert Message.objects.filter(room=room).count() == 1


def test_same_client_id_from_another_author_is_stored_separately(room, author):
    """client_id is per author: another person's identical id is a different message."""
    other = factories.user_create()

    mine, _ = services.message_create(room=room, author=author, text="hi", client_id="c-1")
    theirs, created = services.message_create(room=room, author=other, text="hi", client_id="c-1")

    assert created is True
    assert theirs.pk != mine.pk
    assert Message.objects.filter(room=room).count() == 2


def test_same_client_id_in_another_room_is_stored_separately(room, author):
    """client_id is per room: the same id in another room is a different message."""
    other_room = factories.room_create()

    here, _ = services.message_create(room=room, author=author, text="hi", client_id="c-1")
    there, created = services.message_create(room=other_room, author=author, text="hi", client_id="c-1")

    assert created is True
    assert there.pk != here.pk
    assert there.room == other_room


def test_messages_without_client_id_are_never_merged(room, author):
    """Two sends without client_id are two messages, even with the same text."""
    services.message_create(room=room, author=author, text="hi")
    _, created = services.message_create(room=room, author=author, text="hi")

    assert created is True
    assert Message.objects.filter(room=room).count() == 2


def test_room_archive_marks_the_room_archived(room):
    """An archived room is flagged and no longer active."""
    services.room_archive(room=room)

    room.refresh_from_db()
    assert room.archived is True
    assert selectors.room_get_active(slug=room.slug) is None


def test_room_archive_twice_is_harmless(room):
    """Archiving an archived room changes nothing and does not fail."""
    services.room_archive(room=room)
    services.room_archive(room=room)

    assert Room.objects.get(pk=room.pk).archived is True


def test_message_delete_sets_deleted_at(room, author):
    """A deleted message keeps its row but gains a deleted_at time."""
    message = factories.message_insert(room=room, author=author)
    moderator = factories.user_create(is_staff=True)

    services.message_delete(message=message, by=moderator)

    message.refresh_from_db()
    assert message.deleted_at is not None


def test_deleted_message_disappears_from_history(room, author):
    """After deletion the message is no longer in the room's latest messages."""
    kept = factories.message_insert(room=room, author=author, text="kept")
    gone = factories.message_insert(room=room, author=author, text="gone")

    services.message_delete(message=gone, by=factories.user_create(is_staff=True))

    ids = [frame["id"] for frame in selectors.message_list_latest(room=room)]
    assert ids == [kept.pk]


def test_message_delete_twice_keeps_the_first_deletion_time(room, author):
    """Deleting an already deleted message leaves it as it was."""
    message = factories.message_insert(room=room, author=author)
    moderator = factories.user_create(is_staff=True)
    services.message_delete(message=message, by=moderator)
    message.refresh_from_db()
    first_deleted_at = message.deleted_at

    services.message_delete(message=message, by=moderator)

    message.refresh_from_db()
    assert message.deleted_at == first_deleted_at


# The event log: one seq per room event, assigned by room_seq_next alone.


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_room_seq_next_refuses_to_run_outside_a_transaction(room):
    """A seq taken outside the transaction storing its event could be lost: refused loudly."""
    with pytest.raises(RuntimeError, match="inside the transaction"):
        services.room_seq_next(room=room)


def test_messages_and_deletions_take_each_rooms_next_seq(room):
    """Each room counts its own events 1, 2, 3, …; a deletion is an event too."""
    author = factories.user_create()
    first, _ = services.message_create(room=room, author=author, text="one")
    elsewhere, _ = services.message_create(room=Room.objects.get(slug="general"), author=author, text="x")
    second, _ = services.message_create(room=room, author=author, text="two")
    services.message_delete(message=first, by=author)

    first.refresh_from_db()
    room.refresh_from_db()
    assert [first.seq, second.seq, first.changed_seq] == [1, 2, 3]
    assert (elsewhere.seq, room.seq) == (1, 3)


def test_a_retry_gives_its_seq_back(room):
    """A resend rolls back with the insert that failed: the next message takes the very next seq."""
    author = factories.user_create()
    services.message_create(room=room, author=author, text="one", client_id="c-1")
    services.message_create(room=room, author=author, text="one", client_id="c-1")
    latest, _ = services.message_create(room=room, author=author, text="two", client_id="c-2")

    assert latest.seq == 2


def test_deleting_twice_takes_one_seq(room):
    """A second delete of the same message is no event at all."""
    author = factories.user_create()
    message, _ = services.message_create(room=room, author=author, text="one")
    services.message_delete(message=message, by=author)
    services.message_delete(message=Message.objects.get(pk=message.pk), by=author)

    room.refresh_from_db()
    assert room.seq == 2


# SQLite's test database is shared-cache in memory, whose table locks fail at once
# instead of waiting: the SQLite twin below runs processes on a database file.
@pytest.mark.services
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_writers_take_every_seq_exactly_once(room):
    """Writers in several threads (each its own connection) take 1..N between them, no gap, no repeat."""
    authors = [factories.user_create() for _ in range(4)]

    def write(author) -> list[int]:
        try:
            return [services.message_create(room=room, author=author, text=f"m{n}")[0].seq for n in range(15)]
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=4) as pool:
        seqs = [seq for batch in pool.map(write, authors) for seq in batch]

    assert sorted(seqs) == list(range(1, 61))
    room.refresh_from_db()
    assert room.seq == 60
    assert sorted(Message.objects.filter(room=room).values_list("seq", flat=True)) == list(range(1, 61))


@pytest.mark.services
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_writers_storing_two_rooms_together_in_either_order_never_deadlock(room):
    """Batches of [this room, General] and [General, this room] at once: every message stored, seqs whole."""
    general = Room.objects.get(slug="general")
    authors = [factories.user_create() for _ in range(2)]

    def write(author, rooms: list[Room]) -> None:
        try:
            for n in range(20):
                drafts = [services.MessageDraft(room=each, author=author, text=f"m{n}") for each in rooms]
                outcomes = services.message_create_many(drafts)
                assert not [outcome for outcome in outcomes if isinstance(outcome, Exception)]
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        writers = [
            pool.submit(write, authors[0], [room, general]),
            pool.submit(write, authors[1], [general, room]),
        ]
        for writer in writers:
            writer.result()

    for each in (room, general):
        each.refresh_from_db()
        seqs = sorted(Message.objects.filter(room=each).values_list("seq", flat=True))
        assert seqs == list(range(1, each.seq + 1))
        assert Message.objects.filter(room=each, author__in=authors).count() == 40


def test_a_new_epoch_is_given_to_the_rooms_asked_for(room):
    """After a restore, rooms_new_epoch renews the named rooms' epochs and leaves the others'."""
    general = Room.objects.get(slug="general")
    before = {r.slug: r.epoch for r in (room, general)}

    assert services.room_epoch_renew(slugs=[room.slug]) == 1

    room.refresh_from_db()
    general.refresh_from_db()
    assert room.epoch != before[room.slug]
    assert general.epoch == before["general"]


WRITE_MESSAGES = """
from accounts.models import User
from rooms.models import Room
from rooms.services import message_create
author = User.objects.create_user(username=f"writer-{os.getpid()}")
room = Room.objects.get(slug="general")
for n in range(40):
    message_create(room=room, author=author, text=f"m{n}")
"""


def test_writers_in_several_processes_take_every_seq_once_on_sqlite(tmp_path):
    """The embedded default: processes writing to one SQLite file at once take 1..N, no gap, no repeat."""
    database = tmp_path / "chat.sqlite3"
    env = server_env(DJANGO_DEBUG="1", DATABASE_URL=f"sqlite:///{database}")
    env.pop("REDIS_URL", None)
    manage(env, "migrate", "--no-input", "-v", "0")
    command = [sys.executable, "manage.py", "shell", "-c", f"import os\n{WRITE_MESSAGES}"]
    writers = [subprocess.Popen(command, cwd=BASE_DIR, env=env) for _ in range(3)]
    assert [writer.wait(timeout=120) for writer in writers] == [0, 0, 0]

    in_general = "SELECT seq FROM rooms_message WHERE room_id = (SELECT id FROM rooms_room WHERE slug = ?)"
    with sqlite3.connect(database) as db:
        seqs = sorted(seq for (seq,) in db.execute(in_general, ["general"]))
        (room_seq,) = db.execute("SELECT seq FROM rooms_room WHERE slug = 'general'").fetchone()
    assert seqs == list(range(1, 121))
    assert room_seq == 120


def test_saving_a_room_loaded_before_an_event_leaves_its_log_alone(room):
    """A room saved from an older copy (the admin's change form) keeps its seq: the next message fits."""
    author = factories.user_create()
    stale = Room.objects.get(pk=room.pk)
    services.message_create(room=room, author=author, text="one")

    stale.description = "Renamed while someone talked"
    stale.save()
    latest, _ = services.message_create(room=room, author=author, text="two")

    room.refresh_from_db()
    assert (room.description, room.seq, latest.seq) == ("Renamed while someone talked", 2, 2)


def test_saving_a_message_loaded_before_its_deletion_keeps_it_deleted(room):
    """A message saved from an older copy stays deleted, with its deletion's seq."""
    author = factories.user_create()
    message, _ = services.message_create(room=room, author=author, text="one")
    stale = Message.objects.get(pk=message.pk)
    services.message_delete(message=message, by=author)

    stale.save()

    stale.refresh_from_db()
    assert stale.deleted_at is not None
    assert stale.changed_seq == 2


@pytest.mark.parametrize(
    "text",
    [
        "\u200b\u200b",  # zero-width spaces
        "\u2060",  # word joiner
        "\ufeff",  # byte order mark
        "\u3164\u3164",  # Hangul filler
        "\u115f\u1160",  # Hangul choseong and jungseong fillers
        "\uffa0",  # halfwidth Hangul filler
        "\u2800\u2800",  # braille blank
        "\u200e\u200f\u202a\u202c",  # bidi marks and embeddings
        "\u034f",  # combining grapheme joiner
        " \u200b \u00a0 \u3000 ",  # spaces of all widths around one
    ],
    ids=[
        "zwsp",
        "word-joiner",
        "bom",
        "hangul-filler",
        "jamo-fillers",
        "halfwidth-filler",
        "braille",
        "bidi",
        "cgj",
        "spaces",
    ],
)
def test_text_that_shows_nothing_is_refused_as_empty(room, text):
    """A message of invisible characters would be a blank row on every screen: refused, nothing stored."""
    with pytest.raises(EmptyMessage):
        services.message_create(room=room, author=factories.user_create(), text=text)
    assert not Message.objects.filter(room=room).exists()


@pytest.mark.parametrize("text", ["👨\u200d👩\u200d👧", "e\u0301", "\u200bhi\u200b", "\u2800⠁"])
def test_text_with_something_visible_is_kept_as_typed(room, text):
    """Joiners inside an emoji, combining accents and a visible letter among blanks are fine."""
    message, _ = services.message_create(room=room, author=factories.user_create(), text=text)

    assert message.text == text.strip()


def test_messages_stored_together_take_their_rooms_next_seqs_in_order(room):
    """message_create_many gives each draft its outcome, in order, each room counting on."""
    author = factories.user_create()
    general = Room.objects.get(slug="general")
    drafts = [
        services.MessageDraft(room=room, author=author, text="one"),
        services.MessageDraft(room=general, author=author, text="elsewhere"),
        services.MessageDraft(room=room, author=author, text="two"),
    ]

    outcomes = services.message_create_many(drafts)

    assert [(message.text, message.seq, created) for message, created in outcomes] == [
        ("one", 1, True),
        ("elsewhere", 1, True),
        ("two", 2, True),
    ]
    assert list(Message.objects.filter(room=room).order_by("seq").values_list("text", flat=True)) == [
        "one",
        "two",
    ]


def test_messages_stored_together_are_what_history_reads_back(room):
    """Each message handed back (what the room is sent) has the id, time, seq and mentions stored.

    More messages than Django puts in one INSERT on SQLite (two rooms
    interleaved, one transaction): each id must still be the row's own.
    """
    author = factories.user_create()
    carol = factories.user_create(username="carol")
    general = Room.objects.get(slug="general")
    drafts = [
        services.MessageDraft(
            room=(room, general)[n % 2], author=author, text=f"m{n} @carol", client_id=f"c{n}"
        )
        for n in range(250)
    ]

    with CaptureQueriesContext(connection) as queries:
        outcomes = services.message_create_many(drafts)

    inserts = [query for query in queries if query["sql"].startswith('INSERT INTO "rooms_message"')]
    assert 1 <= len(inserts) <= 10  # together, not one a message (on SQLite Django puts 90 rows in one)
    columns = (
        "pk",
        "room_id",
        "seq",
        "changed_seq",
        "text",
        "client_id",
        "created_at",
        "mention_ids",
        "reactions",
    )
    handed_back = [tuple(getattr(message, name) for name in columns) for message, _created in outcomes]
    stored = list(Message.objects.order_by("room_id", "seq").values_list(*columns))
    assert sorted(handed_back, key=lambda row: (row[1], row[2])) == stored
    assert [row[4] for row in handed_back] == [f"m{n} @carol" for n in range(250)]
    assert {row[7] == [carol.pk] and row[8] == [] for row in handed_back} == {True}
    assert Mention.objects.filter(user=carol).count() == 250
    assert all(message.created_at.tzinfo is not None and not message._state.adding for message, _ in outcomes)


def test_a_retry_among_messages_stored_together_returns_the_stored_one(room):
    """A resend in the middle of a batch is answered with what was stored; the others are stored, no gap."""
    author = factories.user_create()
    stored, _ = services.message_create(room=room, author=author, text="sent before", client_id="c-1")
    drafts = [
        services.MessageDraft(room=room, author=author, text="new", client_id="c-2"),
        services.MessageDraft(room=room, author=author, text="sent before", client_id="c-1"),
        services.MessageDraft(room=room, author=author, text="newer", client_id="c-3"),
    ]

    outcomes = services.message_create_many(drafts)

    assert [(message.pk == stored.pk, created) for message, created in outcomes] == [
        (False, True),
        (True, False),
        (False, True),
    ]
    assert [outcomes[0][0].seq, outcomes[2][0].seq] == [2, 3]
    assert Message.objects.filter(room=room).count() == 3


def test_a_refused_message_among_messages_stored_together_fails_alone(room):
    """An empty draft's outcome is its error; the drafts beside it are stored as if it were not there."""
    author = factories.user_create()
    drafts = [
        services.MessageDraft(room=room, author=author, text="kept"),
        services.MessageDraft(room=room, author=author, text="   "),
        services.MessageDraft(room=room, author=author, text="kept too"),
    ]

    first, refused, last = services.message_create_many(drafts)

    assert isinstance(refused, EmptyMessage)
    assert [(first[0].text, first[0].seq), (last[0].text, last[0].seq)] == [("kept", 1), ("kept too", 2)]
    assert Message.objects.filter(room=room).count() == 2
