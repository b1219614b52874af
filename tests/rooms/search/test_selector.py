"""rooms.search.selector.message_search: what someone finds, on SQLite (embedded pass) and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection

from rooms.models import Message, RoomKind, RoomMember
from rooms.search import index
from rooms.search.query import search_parse
from rooms.search.selector import PAGE_SIZE, message_search, text_parts
from rooms.services import message_delete, message_edit
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def reader():
    return factories.user_create(username="reader", display_name="Rita Reader")


@pytest.fixture
def bob():
    return factories.user_create(username="bob", display_name="Bob")


def found(user, text: str, **filters) -> list[str]:
    """The texts of the first page `user` finds for `text`, newest first."""
    return [
        result["text"]
        for result in message_search(user_id=user.pk, search=search_parse(text, **filters)).results
    ]


def test_finds_messages_holding_every_word_newest_first(room, author, reader):
    """Each word must be there, in any order; the newest comes first."""
    factories.message_insert(room=room, author=author, text="the deploy failed on staging")
    factories.message_insert(room=room, author=author, text="lunch anyone?")
    factories.message_insert(room=room, author=author, text="Staging deploy is green again")

    assert found(reader, "deploy staging") == [
        "Staging deploy is green again",
        "the deploy failed on staging",
    ]
    assert found(reader, "deploy lunch") == []


def test_words_match_whole_words_in_any_case_not_inside_others(room, author, reader):
    """ "cat" finds "Cat!" but not "category"."""
    factories.message_insert(room=room, author=author, text="Cat! on the keyboard")
    factories.message_insert(room=room, author=author, text="a category of its own")

    assert found(reader, "CAT") == ["Cat! on the keyboard"]


def test_a_quoted_phrase_needs_its_words_together_and_in_order(room, author, reader):
    """ "staging server" finds the two words side by side, not apart or reversed."""
    factories.message_insert(room=room, author=author, text="the staging server is down")
    factories.message_insert(room=room, author=author, text="staging the new server")
    factories.message_insert(room=room, author=author, text="server staging, reversed")

    assert found(reader, '"staging server"') == ["the staging server is down"]
    assert found(reader, "staging server") == [
        "server staging, reversed",
        "staging the new server",
        "the staging server is down",
    ]


def test_what_is_typed_is_never_read_as_query_syntax(room, author, reader):
    """Operators of tsquery and FTS5 (& | ! * NEAR OR NOT, quotes, parentheses) are only punctuation here."""
    factories.message_insert(room=room, author=author, text="cats or dogs, not both")
    factories.message_insert(room=room, author=author, text="only cats")

    assert found(reader, "cats OR dogs") == ["cats or dogs, not both"]
    assert found(reader, "cats NOT dogs") == ["cats or dogs, not both"]
    for typed in ["cats & !dogs", "cats* | (dogs", "NEAR(cats dogs)", '"cats', "cats'; --", "cats:*"]:
        found(reader, typed)  # no error from the database


def test_the_default_config_matches_words_as_written(room, author, reader):
    """With CHAT_SEARCH_CONFIG=simple (any language), "running" does not find "run"."""
    factories.message_insert(room=room, author=author, text="we run the tests")

    assert found(reader, "running") == []
    assert found(reader, "run") == ["we run the tests"]


def test_english_stems_words(settings, room, author, reader):
    """With CHAT_SEARCH_CONFIG=english and the index built for it, "running" finds "runs" and "run"."""
    settings.CHAT_SEARCH_CONFIG = "english"
    # Not entered: SQLite's schema editor will not open inside the test's transaction (it
    # could not turn foreign keys off there), and these statements need no such thing.
    editor = connection.schema_editor()
    index.search_index_drop(editor)
    index.search_index_create(editor)
    factories.message_insert(room=room, author=author, text="she runs the tests")
    factories.message_insert(room=room, author=author, text="nothing to see")

    assert found(reader, "running") == ["she runs the tests"]
    assert found(reader, '"running tests"') == []  # "the" stands between them


def test_an_edited_message_is_found_by_its_new_words_only(room, author, reader):
    """Search reads the text as it is now."""
    message = factories.message_insert(room=room, author=author, text="meet at noon")
    message_edit(room=room, message_id=message.pk, editor=author, text="meet at three")

    assert found(reader, "three") == ["meet at three"]
    assert found(reader, "noon") == []


def test_a_deleted_message_is_never_found(room, author, reader):
    """Deleted for everyone: not in search either."""
    message = factories.message_insert(room=room, author=author, text="my password is hunter2")
    message_delete(message=message, by=author)

    assert found(reader, "hunter2") == []
    assert found(reader, "", author=author.username) == []


def test_a_private_room_is_searched_by_its_members_only(room, author, reader, bob):
    """Bob, not a member, finds nothing of it, filtered by name or not; a member finds it."""
    secret = factories.room_create(slug="secret", name="Secret", kind=RoomKind.PRIVATE)
    RoomMember.objects.create(room=secret, user=reader)
    factories.message_insert(room=secret, author=author, text="merger talks on friday")

    assert found(bob, "merger") == []
    assert found(bob, "merger", room="secret") == []
    assert found(reader, "merger") == ["merger talks on friday"]


def test_a_direct_conversation_is_searched_by_its_two_people_only(author, reader, bob):
    """The other person and the author find it, with in:@handle too; a third does not."""
    from rooms.direct import direct_room_open

    direct = direct_room_open(user=author, other=reader)
    factories.message_insert(room=direct, author=author, text="your birthday surprise")

    assert found(reader, "birthday") == ["your birthday surprise"]
    assert found(reader, f"birthday in:@{author.username}") == ["your birthday surprise"]
    assert found(author, "birthday in:@bob") == []
    assert found(bob, "birthday") == []


def test_an_archived_room_is_not_searched(room, author, reader):
    """A room no one can open any more gives no results to open."""
    factories.message_insert(room=room, author=author, text="archived words")
    room.archived = True
    room.save()

    assert found(reader, "archived") == []


def test_filters_narrow_by_room_person_and_dates(room, author, reader, bob):
    """in: takes a slug or a name, from: a handle (with or without @), before: and after: whole UTC days."""
    other = factories.room_create(slug="ops", name="Operations")
    old = factories.message_insert(room=room, author=author, text="release notes")
    Message.objects.filter(pk=old.pk).update(created_at=datetime(2026, 11, 2, 12, tzinfo=UTC))
    factories.message_insert(room=other, author=bob, text="release train")
    factories.message_insert(room=room, author=bob, text="release party")

    assert found(reader, "release in:ops") == ["release train"]
    assert found(reader, 'release in:"operations"') == ["release train"]
    assert found(reader, "release", room=room.slug) == ["release party", "release notes"]
    assert found(reader, "release from:@bob") == ["release party", "release train"]
    assert found(reader, "release", author="BOB", room="ops") == ["release train"]
    assert found(reader, "release before:2026-11-03") == ["release notes"]
    assert found(reader, "release before:2026-11-02") == []
    assert found(reader, "release after:2026-11-02") == ["release party", "release train"]
    assert found(reader, "", author="bob") == ["release party", "release train"]  # a filter alone


def test_results_come_in_pages(room, author, reader):
    """Page 1 is the newest PAGE_SIZE, with has_more; the last page says there is no more."""
    for n in range(PAGE_SIZE + 3):
        factories.message_insert(room=room, author=author, text=f"standup note {n}")

    first = message_search(user_id=reader.pk, search=search_parse("standup"))
    second = message_search(user_id=reader.pk, search=search_parse("standup"), page=2)

    assert [r["text"] for r in first.results][:2] == [
        f"standup note {PAGE_SIZE + 2}",
        f"standup note {PAGE_SIZE + 1}",
    ]
    assert first.has_more
    assert len(first.results) == PAGE_SIZE
    assert [r["text"] for r in second.results] == ["standup note 2", "standup note 1", "standup note 0"]
    assert not second.has_more


def test_a_result_says_where_it_is_and_which_words_matched(room, author, reader):
    """The room's slug and name, the author, the time, and the text in parts with the matches marked."""
    message = factories.message_insert(room=room, author=author, text="Deploy done. Next deploy: Friday")

    (result,) = message_search(user_id=reader.pk, search=search_parse("deploy")).results

    assert (result["id"], result["room"], result["room_name"], result["user"]["name"]) == (
        message.pk,
        room.slug,
        room.name,
        "Alice",
    )
    assert result["parts"] == [
        {"text": "Deploy", "match": True},
        {"text": " done. Next ", "match": False},
        {"text": "deploy", "match": True},
        {"text": ": Friday", "match": False},
    ]
    assert "".join(part["text"] for part in result["parts"]) == message.text


def test_a_direct_result_is_named_for_the_other_person(author, reader):
    """As the dashboard names it: the other one's name, not the room's internal name."""
    from rooms.direct import direct_room_open

    direct = direct_room_open(user=author, other=reader)
    factories.message_insert(room=direct, author=author, text="quiet word")

    (result,) = message_search(user_id=reader.pk, search=search_parse("quiet")).results
    assert (result["room_kind"], result["room_name"]) == (RoomKind.DIRECT, "Alice")


def test_text_holding_the_marks_itself_is_shown_plain():
    """A message that contains the marker characters gets no highlight it did not earn."""
    assert text_parts("a \ufdd0b\ufdd1 c", "a \ufdd0\ufdd0b\ufdd1\ufdd1 c") == [
        {"text": "a \ufdd0b\ufdd1 c", "match": False}
    ]
    assert text_parts("abc", "xyz") == [{"text": "abc", "match": False}]


def test_messages_sent_after_a_day_count_from_its_end(room, author, reader):
    """after:D means from the next midnight UTC on."""
    message = factories.message_insert(room=room, author=author, text="late night")
    Message.objects.filter(pk=message.pk).update(created_at=datetime(2026, 11, 2, 23, 59, tzinfo=UTC))

    assert found(reader, "late after:2026-11-02") == []
    assert found(reader, "late after:2026-11-01") == ["late night"]


def test_addresses_numbers_and_any_letters_are_found_as_written(room, author, reader):
    """A link's host, an address, a decimal, a word with ß: each found by typing it."""
    factories.message_insert(room=room, author=author, text="docs are on example.com now")
    factories.message_insert(room=room, author=author, text="mail bob@example.org about it")
    factories.message_insert(room=room, author=author, text="pi is 3.14, roughly")
    factories.message_insert(room=room, author=author, text="Die Straße ist gesperrt")

    assert found(reader, "example.com") == ["docs are on example.com now"]
    assert found(reader, "bob@example.org") == ["mail bob@example.org about it"]
    assert found(reader, "3.14") == ["pi is 3.14, roughly"]
    assert found(reader, "straße") == ["Die Straße ist gesperrt"]


def test_after_the_last_day_there_is_nothing(room, author, reader):
    """after:9999-12-31 finds nothing (there is no later day), rather than failing."""
    factories.message_insert(room=room, author=author, text="timeless")

    assert found(reader, "timeless after:9999-12-31") == []
    assert found(reader, "timeless before:9999-12-31") == ["timeless"]
