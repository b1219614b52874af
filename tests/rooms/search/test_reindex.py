"""manage.py search_reindex: after CHAT_SEARCH_CONFIG changes, the index follows, old messages included."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection

from rooms.search.checks import search_index_check
from rooms.search.index import search_index_is_current
from rooms.search.query import search_parse
from rooms.search.selector import message_search
from tests import factories


@pytest.fixture
def index_restored(settings):
    """The test changes the index itself, which no transaction undoes here: build it back as it was."""
    yield
    settings.CHAT_SEARCH_CONFIG = "simple"
    call_command("search_reindex", stdout=None)


# serialized_rollback: keep the seeded rooms that a transactional flush would wipe.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_reindex_builds_the_index_for_the_new_config_over_old_messages(settings, index_restored, capsys):
    """A message sent before the change is found by its stem once the index is built again."""
    room, author = factories.room_create(), factories.user_create()
    factories.message_insert(room=room, author=author, text="the builds were failing")
    settings.CHAT_SEARCH_CONFIG = "english"
    assert not search_index_is_current(connection)

    call_command("search_reindex")

    assert search_index_is_current(connection)

    assert "'english' over 1 message(s)" in capsys.readouterr().out
    results = message_search(user_id=author.pk, search=search_parse("failed build")).results
    assert [result["text"] for result in results] == ["the builds were failing"]


@pytest.mark.django_db
def test_a_stale_index_is_reported_by_the_database_checks(settings):
    """migrate and check --database warn (rooms.W001) until search_reindex runs; not while it is current."""
    assert search_index_check(databases=["default"]) == []

    settings.CHAT_SEARCH_CONFIG = "english"

    (warning,) = search_index_check(databases=["default"])
    assert warning.id == "rooms.W001"
    assert "search_reindex" in warning.hint


@pytest.mark.django_db
def test_a_search_index_that_lost_its_triggers_is_reported(settings):
    """SQLite: Django rebuilds a table to alter it and its triggers go with it; the check says so."""
    if connection.vendor != "sqlite":
        assert search_index_is_current(connection)
        return
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER rooms_message_search_update")

    assert not search_index_is_current(connection)
    assert [warning.id for warning in search_index_check(databases=["default"])] == ["rooms.W001"]
