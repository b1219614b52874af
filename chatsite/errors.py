"""The site's error answers: pages in its own style, JSON for the JSON endpoints.

Django's handler400/403/404/500 hooks; they only run with DEBUG off. A
request that asks for JSON (as every script of ours does, `Accept:
application/json`) gets `{"error", "detail"}` instead of a page. The 500 page
is a plain template with no context and no database access: it must render
when the database is what failed.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader


@dataclass(frozen=True)
class ErrorPage:
    status: int
    code: str
    heading: str
    explanation: str


BAD_REQUEST = ErrorPage(
    400, "bad_request", "That request was not understood", "Check the address, or go back and try again."
)
FORBIDDEN = ErrorPage(
    403,
    "forbidden",
    "You may not do that",
    "Your session may have changed in another tab: reload the page, then try again.",
)
NOT_FOUND = ErrorPage(404, "not_found", "No such page", "No such page or room, or it was closed.")
SERVER_ERROR = ErrorPage(
    500,
    "server_error",
    "Something went wrong on our side",
    "The error was logged; please try again in a moment.",
)


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _answer(request: HttpRequest, page: ErrorPage) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"error": page.code, "detail": page.explanation}, status=page.status)
    context = {"status": page.status, "heading": page.heading, "explanation": page.explanation}
    return render(request, f"{page.status}.html", context, status=page.status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """400: a request the site cannot read (a bad Host, a broken form)."""
    return _answer(request, BAD_REQUEST)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """403: not allowed (for a room someone may not enter, the site answers 404 instead)."""
    return _answer(request, FORBIDDEN)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """404: no such page, or a room that is not there for this person."""
    return _answer(request, NOT_FOUND)


def server_error(request: HttpRequest) -> HttpResponse:
    """500: the plain template, rendered without context processors (no database, no session)."""
    if _wants_json(request):
        return JsonResponse({"error": SERVER_ERROR.code, "detail": SERVER_ERROR.explanation}, status=500)
    return HttpResponse(loader.get_template("500.html").render(), status=500)
