"""Full-text search on SQLite: an FTS5 MATCH of a search's terms, as quoted phrases only."""

from __future__ import annotations

from django.db import connection
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

from rooms.models import Message
from rooms.search.index import SQLITE_TABLE
from rooms.search.query import Term

# Newest first, by id (ids rise with time): SQLite walks the FTS5 matches in rowid order, where
# ordering by date sorted them all first (docs/PERFORMANCE.md, "Search").
NEWEST_FIRST = ("-id",)


def _match(terms: tuple[Term, ...]) -> str:
    # Every term a quoted phrase, so no word is ever read as an operator (AND, NEAR, NOT, *).
    # The words hold only letters, digits and underscores: nothing to escape.
    return " ".join('"' + " ".join(term.words) + '"' for term in terms)


def messages_matching(messages: QuerySet[Message], terms: tuple[Term, ...], config: str) -> QuerySet[Message]:
    """Those of `messages` whose text holds every term (the FTS5 table; `config` chose its tokenizer)."""
    # The table's name is a constant; the MATCH string is a parameter.
    matching = RawSQL(f"SELECT rowid FROM {SQLITE_TABLE} WHERE {SQLITE_TABLE} MATCH %s", (_match(terms),))  # noqa: S608, S611
    return messages.filter(pk__in=matching)


def texts_marked(
    ids: list[int], terms: tuple[Term, ...], config: str, *, start: str, stop: str
) -> dict[int, str]:
    """Each message's whole text with the words that match between `start` and `stop` (FTS5 highlight)."""
    places = ", ".join("%s" for _ in ids)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT rowid, highlight({SQLITE_TABLE}, 0, %s, %s) FROM {SQLITE_TABLE} "  # noqa: S608
            f"WHERE {SQLITE_TABLE} MATCH %s AND rowid IN ({places})",
            [start, stop, _match(terms), *ids],
        )
        return dict(cursor.fetchall())
