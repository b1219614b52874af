"""Open redirects through `next`, and session fixation, on every way in: the form and the provider."""

from __future__ import annotations

import re
from importlib import import_module

import pytest
from django.conf import settings

from tests.accounts.test_oidc import sign_in as sign_in_with_provider
from tests.factories import PASSWORD, user_create

pytestmark = pytest.mark.django_db

DASHBOARD = "/rooms/"

# mozilla-django-oidc's own list (tests/test_views.py, GetNextURLTestCase.test_bad_urls,
# itself taken from Django's url_has_allowed_host_and_scheme tests); example.com is the foreign site.
MOZILLA_BAD_URLS = [
    "",
    "http://example.com",
    "http:///example.com",
    "https://example.com",
    "ftp://example.com",
    r"\\example.com",
    r"\\\example.com",
    r"/\\/example.com",
    r"\\//example.com",
    r"/\/example.com",
    r"\/example.com",
    r"/\example.com",
    r"http:/\//example.com",
    r"http:\/example.com",
    r"http:/\example.com",
    'javascript:alert("XSS")',
    "\njavascript:alert(x)",
    "\x08//example.com",
    r"http://otherserver\@example.com",
    r"http:\\testserver\@example.com",
    r"http://testserver\me:pass@example.com",
    r"http://testserver\@example.com",
    r"http:\\testserver\confirm\me@example.com",
    "http:999999999",
    "ftp:9999999999",
    "\n",
]
# The classic bypasses besides.
CLASSIC_BAD_URLS = [
    "https://evil.example",
    "//evil.example",
    "///evil.example",
    "\\\\evil.example",
    "/\\evil.example",
    "http:evil.example",
    "https:/evil.example",
    "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "  //evil.example",
    "\t//evil.example",
    "http://testserver@evil.example",
    "http://evil.example#@testserver",
    "//evil.example%2F@testserver",
    "http://testserver.evil.example",
]
# Refused outright: the sign-in falls back to the dashboard.
BAD_URLS = MOZILLA_BAD_URLS + CLASSIC_BAD_URLS
# Look foreign but are paths on this site (percent-encoding is not a slash, nor a tab):
# kept as they are, and a browser stays here.
ENCODED_URLS = ["%2F%2Fevil.example", "/%2F/evil.example", "/%09/evil.example", "/%5Cevil.example"]


def is_a_path_on_this_site(location: str) -> bool:
    """A path-absolute ("/x") or path-relative ("x") reference, which a browser resolves on this host.

    Browsers drop tabs and newlines, trim spaces and controls, and read "\\" as "/":
    any of those, a leading "//" or a scheme could leave the site.
    """
    if not location or re.search(r"[\x00-\x20\\]", location):
        return False
    if location.startswith("/"):
        return not location.startswith("//")
    return ":" not in location.split("/", 1)[0]


@pytest.fixture
def alice():
    """A local account."""
    return user_create(username="alice", display_name="Alice")


def sign_in_with_form(client, next_url: str):
    return client.post("/accounts/login/", {"username": "alice", "password": PASSWORD, "next": next_url})


@pytest.mark.parametrize("next_url", BAD_URLS)
def test_form_sign_in_ignores_an_off_site_next(client, alice, next_url):
    """Signing in with the form never follows an off-site `next`: the dashboard instead."""
    response = sign_in_with_form(client, next_url)
    assert response["Location"] == DASHBOARD


@pytest.mark.parametrize("next_url", BAD_URLS)
def test_login_page_of_a_signed_in_user_ignores_an_off_site_next(client, alice, next_url):
    """Someone already signed in who opens /accounts/login/?next=<evil> goes to the dashboard."""
    client.force_login(alice)
    response = client.get("/accounts/login/", {"next": next_url})
    assert response["Location"] == DASHBOARD


@pytest.mark.parametrize("next_url", BAD_URLS)
def test_provider_sign_in_ignores_an_off_site_next(client, provider, next_url):
    """Through /oidc/authenticate/?next=<evil> and back, the browser lands on the dashboard."""
    response = sign_in_with_provider(client, provider, next_url=next_url)
    assert response["Location"] == DASHBOARD
    assert "_auth_user_id" in client.session


@pytest.mark.parametrize("next_url", ENCODED_URLS)
def test_percent_encoded_next_stays_on_this_site(client, alice, provider, next_url):
    """Encoded slashes, backslashes and tabs are path characters: the browser stays on this site."""
    by_form = sign_in_with_form(client, next_url)
    client.post("/accounts/logout/")
    by_provider = sign_in_with_provider(client, provider, next_url=next_url)
    for response in (by_form, by_provider):
        assert response.status_code == 302
        assert is_a_path_on_this_site(response["Location"]), response["Location"]


@pytest.mark.parametrize("next_url", BAD_URLS)
def test_no_bad_url_passes_for_a_path_on_this_site(next_url):
    """The check above is strict: none of the off-site URLs passes it."""
    assert not is_a_path_on_this_site(next_url)


def test_form_sign_in_rotates_the_session_key(client, alice):
    """A session key planted before sign-in is dead after it (no session fixation)."""
    planted = client.session
    planted["planted"] = True
    planted.save()

    response = sign_in_with_form(client, DASHBOARD)

    assert response.status_code == 302
    assert client.session.session_key != planted.session_key
    assert client.session["_auth_user_id"] == str(alice.pk)
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    assert not store.exists(planted.session_key)
