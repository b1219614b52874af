"""rooms.services: the writes behind sending, deleting and archiving."""

from __future__ import annotations

import pytest

from rooms import selectors, services
from rooms.exceptions import EmptyMessage, MessageTooLong
from rooms.models import Message, Room
from tests import factories

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
    services.message_delete(message=first, moderator=factories.user_create(is_staff=True))

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

    services.message_delete(message=message, moderator=moderator)

    message.refresh_from_db()
    assert message.deleted_at is not None


def test_deleted_message_disappears_from_history(room, author):
    """After deletion the message is no longer in the room's latest messages."""
    kept = factories.message_insert(room=room, author=author, text="kept")
    gone = factories.message_insert(room=room, author=author, text="gone")

    services.message_delete(message=gone, moderator=factories.user_create(is_staff=True))

    ids = [frame["id"] for frame in selectors.message_list_latest(room=room)]
    assert ids == [kept.pk]


def test_message_delete_twice_keeps_the_first_deletion_time(room, author):
    """Deleting an already deleted message leaves it as it was."""
    message = factories.message_insert(room=room, author=author)
    moderator = factories.user_create(is_staff=True)
    services.message_delete(message=message, moderator=moderator)
    message.refresh_from_db()
    first_deleted_at = message.deleted_at

    services.message_delete(message=message, moderator=moderator)

    message.refresh_from_db()
    assert message.deleted_at == first_deleted_at
