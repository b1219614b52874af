"""Error pages in the site's style, with a way back; JSON for whoever asks for JSON.

Django uses the handlers only with DEBUG off, as in production (the test
settings run with it off).
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.urls import path

from chatsite import errors, urls
from tests import factories

pytestmark = pytest.mark.django_db


def boom(request):
    raise RuntimeError("a bug")


urlpatterns = [*urls.urlpatterns, path("boom/", boom)]
handler500 = urls.handler500


def test_an_unknown_room_is_a_page_of_ours_with_a_way_back_to_the_rooms(settings):
    """Signed in, a 404 has the site's header, says what happened, and links to the rooms."""
    assert settings.DEBUG is False
    page = factories.browser_signed_in(factories.user_create()).get("/rooms/no-such-room/")

    assert page.status_code == 404
    html = page.content.decode()
    assert "No such page" in html
    assert 'href="/rooms/"' in html
    assert "Back to the rooms" in html
    assert 'class="site-header"' in html


def test_a_404_for_someone_signed_out_leads_to_the_front_page(client):
    """No session: the way back is the front page."""
    page = client.get("/no/such/page/")

    assert page.status_code == 404
    assert "Back to the front page" in page.content.decode()


def test_a_json_request_gets_a_json_404(client):
    """A script asking for JSON gets {"error", "detail"}, not a page."""
    answer = client.get("/no/such/endpoint/", HTTP_ACCEPT="application/json")

    assert answer.status_code == 404
    assert answer.json() == {"error": "not_found", "detail": errors.NOT_FOUND.explanation}


@pytest.mark.urls(__name__)
def test_a_server_error_is_a_plain_page_that_needs_no_database(settings):
    """A crash renders the 500 page even with the database gone; JSON callers get JSON."""
    browser = Client(raise_request_exception=False)
    page = browser.get("/boom/")
    assert page.status_code == 500
    assert "Something went wrong on our side" in page.content.decode()

    answer = browser.get("/boom/", HTTP_ACCEPT="application/json")
    assert answer.status_code == 500
    assert answer.json()["error"] == "server_error"

    with connection.execute_wrapper(refuse_queries):
        assert errors.server_error(page.wsgi_request).status_code == 500


def refuse_queries(*args, **kwargs):
    raise AssertionError("the 500 page must not touch the database")


def test_a_bad_request_and_a_forbidden_one_are_pages_of_ours_too(rf):
    """400 and 403 answer in the site's style as well."""
    request = rf.get("/")
    request.user = factories.user_create()
    for handler, status, words in (
        (errors.bad_request, 400, "That request was not understood"),
        (errors.permission_denied, 403, "You may not do that"),
    ):
        answer = handler(request)
        assert answer.status_code == status
        assert words in answer.content.decode()
