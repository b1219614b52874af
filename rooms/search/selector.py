"""The one read of search: a page of the messages someone may read that match, newest first.

Who may read what is part of the query (the rooms open to them, no deleted
message), never filtered afterwards, so a page is always full and nothing
leaks through a count or a page boundary.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

from django.conf import settings
from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet

from rooms.access import room_shown_names, rooms_open_to
from rooms.models import Message, RoomKind, RoomMember
from rooms.realtime.protocol.outbound import Frame, search_result
from rooms.search import postgres, sqlite
from rooms.search.query import Search

PAGE_SIZE = 20
# Deeper than this, narrow the search instead: OFFSET paging costs what it skips.
PAGES_MAX = 50
# Noncharacters (Unicode: never interchanged as text) around the matching words the database marks.
MARK_START, MARK_STOP = "\ufdd0", "\ufdd1"


@dataclass(frozen=True)
class SearchPage:
    """One page of results (search_result frames) and whether a next page has more."""

    results: list[Frame]
    page: int
    has_more: bool


def _backend() -> ModuleType:
    return postgres if connection.vendor == "postgresql" else sqlite


def _in_rooms(names: tuple[str, ...]) -> Q:
    """in: a room's slug or name, or "@handle" for the direct conversation with that person."""
    where = Q(pk__in=[])
    for name in names:
        if name.startswith("@"):
            with_them = RoomMember.objects.filter(room=OuterRef("room"), user__username__iexact=name[1:])
            where |= Q(room__kind=RoomKind.DIRECT) & Q(Exists(with_them))
        else:
            where |= Q(room__slug__iexact=name) | Q(room__name__iexact=name)
    return where


def _narrowed(messages: QuerySet[Message], search: Search) -> QuerySet[Message]:
    if search.rooms:
        messages = messages.filter(_in_rooms(search.rooms))
    if search.authors:
        by = Q(pk__in=[])
        for handle in search.authors:
            by |= Q(author__username__iexact=handle)
        messages = messages.filter(by)
    if search.since:
        messages = messages.filter(created_at__gte=search.since)
    if search.until:
        messages = messages.filter(created_at__lt=search.until)
    return messages


def message_search(*, user_id: int, search: Search, page: int = 1) -> SearchPage:
    """Page `page` (from 1, at most PAGES_MAX) of the messages `user_id` may read that match `search`."""
    page = max(1, min(page, PAGES_MAX))
    config = settings.CHAT_SEARCH_CONFIG
    backend = _backend()
    readable = rooms_open_to(user_id=user_id).values("pk")
    messages = _narrowed(Message.objects.filter(room__in=readable, deleted_at__isnull=True), search)
    if search.terms:
        messages = backend.messages_matching(messages, search.terms, config)
    start = (page - 1) * PAGE_SIZE
    newest_first = messages.select_related("author", "room").order_by(*backend.NEWEST_FIRST)
    found = list(newest_first[start : start + PAGE_SIZE + 1])
    has_more = len(found) > PAGE_SIZE and page < PAGES_MAX
    found = found[:PAGE_SIZE]
    marked: dict[int, str] = {}
    if search.terms and found:
        ids = [message.pk for message in found]
        marked = backend.texts_marked(ids, search.terms, config, start=MARK_START, stop=MARK_STOP)
    names = room_shown_names(
        rooms=list({message.room_id: message.room for message in found}.values()), user_id=user_id
    )
    results = [
        search_result(
            message,
            room_name=names[message.room_id],
            room_kind=message.room.kind,
            parts=text_parts(message.text, marked.get(message.pk)),
        )
        for message in found
    ]
    return SearchPage(results=results, page=page, has_more=has_more)


def text_parts(text: str, marked: str | None) -> list[dict[str, str | bool]]:
    """`text` cut into parts that match and parts that do not, from the database's marked copy.

    A text that itself holds the marks (or a copy that is not the text, marks
    aside) is one plain part: never a highlight the database did not make.
    """
    plain: list[dict[str, str | bool]] = [{"text": text, "match": False}] if text else []
    if not marked or MARK_START in text or MARK_STOP in text:
        return plain
    if marked.replace(MARK_START, "").replace(MARK_STOP, "") != text:
        return plain
    parts: list[dict[str, str | bool]] = []
    for index, piece in enumerate(marked.split(MARK_START)):
        matched, _, rest = piece.partition(MARK_STOP) if index else ("", "", piece)
        for part, match in ((matched, True), (rest, False)):
            if not part:
                continue
            if parts and parts[-1]["match"] == match:
                parts[-1]["text"] = f"{parts[-1]['text']}{part}"
            else:
                parts.append({"text": part, "match": match})
    return parts
