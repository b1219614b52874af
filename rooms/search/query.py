"""What someone searching asked for: words and "phrases", and the filters in:, from:, before:, after:.

Parsed here, once, into plain values, so each database's search sees only
words (letters, digits, underscores): nothing typed reaches a query language
(tsquery, FTS5 MATCH) unquoted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from rooms.exceptions import InvalidSearch, SearchTooLong, SearchTooShort

# A query longer than this is refused (400), not cut: what was cut would silently not be searched.
QUERY_MAX_LENGTH = 200
# Words and phrases a query may hold; every one must match.
TERMS_MAX = 16
# Fewer letters than this, with no filter to narrow it, would match nearly everything.
WORDS_MIN_LENGTH = 2

TOO_LONG = f"A search is at most {QUERY_MAX_LENGTH} characters."
TOO_SHORT = (
    f"A search needs at least {WORDS_MIN_LENGTH} letters, "
    + "or a filter to narrow it: in:, from:, before: or after:."
)
TOO_MANY_TERMS = f"A search may hold at most {TERMS_MAX} words and phrases."
BAD_DATE = "{name} must be a date written YYYY-MM-DD, such as 2026-12-01."

WORD = re.compile(r"\w+")
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# A filter (name:value or name:"two words"), a "phrase", or anything else up to a space.
TOKEN = re.compile(
    r'(?P<filter>(?P<name>in|from|before|after):(?:"(?P<quoted>[^"]*)"?|(?P<bare>\S*)))|"(?P<phrase>[^"]*)"?|(?P<plain>\S+)',
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Term:
    """One word or phrase to find: as typed (PostgreSQL parses it itself) and as its words."""

    # PostgreSQL keeps "example.com", "bob@x.io" and "3.14" as one token each: it gets the text.
    text: str
    # Letters, digits and underscores, lowercased: an FTS5 phrase of them, in order.
    words: tuple[str, ...]


@dataclass(frozen=True)
class Search:
    """A parsed search: every term must match (a term is one word, or a phrase of words in order)."""

    terms: tuple[Term, ...] = ()
    # A room's slug or name; "@handle" for the direct conversation with that person.
    rooms: tuple[str, ...] = ()
    # Handles (usernames), without the @.
    authors: tuple[str, ...] = ()
    # Sent at or after `since` and before `until` (UTC).
    since: datetime | None = None
    until: datetime | None = None

    @property
    def narrowed(self) -> bool:
        """Whether a filter limits where or when to look."""
        return bool(self.rooms or self.authors or self.since or self.until)


def search_parse(text: str, *, room: str = "", author: str = "", before: str = "", after: str = "") -> Search:
    """The search `text` asks for, with the endpoint's own filters added; InvalidSearch says what is wrong."""
    if len(text) > QUERY_MAX_LENGTH:
        raise SearchTooLong(TOO_LONG)
    terms: list[Term] = []
    filters: dict[str, list[str]] = {"in": [], "from": [], "before": [], "after": []}
    for token in TOKEN.finditer(text):
        if token["filter"]:
            value = token["quoted"] if token["quoted"] is not None else token["bare"]
            if value.strip():
                filters[token["name"].lower()].append(value.strip())
            continue
        # "don't" or "e-mail" is two words to SQLite: found as a phrase, one after the other.
        # lower(), not casefold(): the databases keep "straße" as it is, not as "strasse".
        typed = token["phrase"] or token["plain"] or ""
        terms.append(Term(text=typed, words=tuple(word.lower() for word in WORD.findall(typed))))
    for name, value in (("in", room), ("from", author), ("before", before), ("after", after)):
        if value.strip():
            filters[name].append(value.strip())
    return _search_of(terms, filters)


def _search_of(terms: list[Term], filters: dict[str, list[str]]) -> Search:
    # Punctuation alone is no term; the same words twice are one.
    unique_terms = tuple({term.words: term for term in reversed(terms) if term.words}.values())[::-1]
    if len(unique_terms) > TERMS_MAX:
        raise InvalidSearch(TOO_MANY_TERMS)
    befores = [_day_start(value, "before") for value in filters["before"]]
    afters = [_day_end(value, "after") for value in filters["after"]]
    search = Search(
        terms=unique_terms,
        rooms=tuple(dict.fromkeys(filters["in"])),
        authors=tuple(dict.fromkeys(value.removeprefix("@") for value in filters["from"])),
        since=max(afters) if afters else None,
        until=min(befores) if befores else None,
    )
    letters = sum(len(word) for term in unique_terms for word in term.words)
    if letters < WORDS_MIN_LENGTH and not search.narrowed:
        raise SearchTooShort(TOO_SHORT)
    return search


def _day_start(value: str, name: str) -> datetime:
    """Midnight UTC at the start of the day written YYYY-MM-DD."""
    # fromisoformat alone also takes 20261201 and 2026-W48-2.
    if not DATE.fullmatch(value):
        raise InvalidSearch(BAD_DATE.format(name=name))
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise InvalidSearch(BAD_DATE.format(name=name)) from None
    return datetime.combine(day, time.min, tzinfo=UTC)


def _day_end(value: str, name: str) -> datetime:
    """Midnight UTC at the end of the day written YYYY-MM-DD (the last moment there is, for 9999-12-31)."""
    try:
        return _day_start(value, name) + timedelta(days=1)
    except OverflowError:
        return datetime.max.replace(tzinfo=UTC)
