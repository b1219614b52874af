"""Full-text search on PostgreSQL: the tsquery of a search's terms, against the indexed tsvector."""

from __future__ import annotations

import operator
from functools import reduce

from django.contrib.postgres.search import SearchHeadline, SearchQuery
from django.db.models import QuerySet

from rooms.models import Message
from rooms.search.index import text_vector
from rooms.search.query import Term

# Newest first, by date then id: a before: bound then cuts the (created_at, id) index itself, where
# ordering by id walked back through every newer message (docs/PERFORMANCE.md, "Search").
NEWEST_FIRST = ("-created_at", "-id")


def _query(terms: tuple[Term, ...], config: str) -> SearchQuery:
    # phraseto_tsquery: a term's words in order, stemmed by `config`, split as the index split the
    # text; it reads no operators, so what was typed goes as it is.
    return reduce(
        operator.and_, (SearchQuery(term.text, config=config, search_type="phrase") for term in terms)
    )


def messages_matching(messages: QuerySet[Message], terms: tuple[Term, ...], config: str) -> QuerySet[Message]:
    """Those of `messages` whose text holds every term (through the GIN index)."""
    return messages.alias(text_search=text_vector()).filter(text_search=_query(terms, config))


def texts_marked(
    ids: list[int], terms: tuple[Term, ...], config: str, *, start: str, stop: str
) -> dict[int, str]:
    """Each message's whole text with the words that match between `start` and `stop` (ts_headline)."""
    headline = SearchHeadline(
        "text", _query(terms, config), config=config, start_sel=start, stop_sel=stop, highlight_all=True
    )
    return dict(Message.objects.filter(pk__in=ids).annotate(marked=headline).values_list("pk", "marked"))
