"""GET /search/: the search box's JSON."""

from __future__ import annotations

import math

from asgiref.sync import sync_to_async
from django.db import close_old_connections
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from rooms.exceptions import InvalidSearch
from rooms.realtime.handshake.query import whole_number
from rooms.search.limit import search_admit
from rooms.search.query import Search, search_parse
from rooms.search.selector import PAGES_MAX, message_search
from rooms.views import signed_out_response

PAGE_INVALID = f"page must be a whole number from 1 to {PAGES_MAX}."
SEARCHING_TOO_FAST = "You are searching too fast; wait a moment."


@require_GET
@never_cache
async def search(request: HttpRequest) -> JsonResponse:
    """A page of the messages you may read matching `q` (and room=, from=, before=, after=), newest first.

    Async, so the search runs on a worker thread of its own: Django runs sync
    views on the one thread that also stores every message of this process,
    and a broad search would hold the chat up.
    """
    user = await request.auser()
    if not user.is_authenticated:
        return signed_out_response()
    page = whole_number(request.GET.get("page") or "1")
    if page is None or not 1 <= page <= PAGES_MAX:
        return JsonResponse({"error": "invalid", "detail": PAGE_INVALID}, status=400)
    try:
        wanted = search_parse(
            request.GET.get("q", ""),
            room=request.GET.get("room", ""),
            author=request.GET.get("from", ""),
            before=request.GET.get("before", ""),
            after=request.GET.get("after", ""),
        )
    except InvalidSearch as refused:
        return JsonResponse({"error": refused.code, "detail": refused.detail}, status=400)
    return await sync_to_async(_answer, thread_sensitive=False)(user.pk, wanted, page)


def _answer(user_id: int, wanted: Search, page: int) -> JsonResponse:
    # A worker thread keeps its database connection between searches: checked as a request's is.
    close_old_connections()
    try:
        # Counted once the search is known to run: a typo answered 400 costs the database nothing.
        wait = search_admit(user_id=user_id)
        if wait > 0:
            response = JsonResponse(
                {"error": "rate_limited", "detail": SEARCHING_TOO_FAST, "retry_after": wait}, status=429
            )
            response["Retry-After"] = str(math.ceil(wait))
            return response
        found = message_search(user_id=user_id, search=wanted, page=page)
        return JsonResponse({"results": found.results, "page": found.page, "has_more": found.has_more})
    finally:
        close_old_connections()
