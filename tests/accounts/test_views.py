"""The landing page, and signing in and out with a local account."""

from __future__ import annotations

import pytest
from django.test import Client

from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def user():
    """A local account whose password is factories.PASSWORD."""
    return factories.user_create(username="alice", display_name="Alice")


def sign_in(client, *, username: str = "alice", password: str = factories.PASSWORD, next_url=None):
    """Submit the login form as a browser would."""
    data = {"username": username, "password": password}
    if next_url is not None:
        data["next"] = next_url
    return client.post("/accounts/login/", data)


def test_login_page_shows_the_sign_in_form(client):
    """The login page asks for a username and a password."""
    response = client.get("/accounts/login/")

    assert response.status_code == 200
    content = response.content.decode()
    assert '<form method="post" action="/accounts/login/"' in content
    assert 'name="username"' in content
    assert 'name="password"' in content
    assert 'name="csrfmiddlewaretoken"' in content


def test_login_page_keeps_the_next_page(client):
    """Arriving from a protected page, the form remembers where to go back to."""
    content = client.get("/accounts/login/?next=/rooms/music/").content.decode()

    assert 'name="next" value="/rooms/music/"' in content


def test_login_with_username_and_password_goes_to_the_rooms(client, user):
    """Signing in with the right password lands on the dashboard, signed in."""
    response = sign_in(client)

    assert response.status_code == 302
    assert response["Location"] == "/rooms/"
    assert client.get("/rooms/").status_code == 200


def test_login_with_a_wrong_password_is_refused(client, user):
    """A wrong password shows the form again with an error, and nobody is signed in."""
    response = sign_in(client, password="wrong password")

    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()
    assert client.get("/rooms/general/token/").status_code == 401


def test_login_of_an_inactive_user_is_refused(client):
    """A deactivated account cannot sign in."""
    factories.user_create(username="mallory", is_active=False)

    response = sign_in(client, username="mallory")

    assert response.status_code == 200
    assert client.get("/rooms/general/token/").status_code == 401


def test_login_follows_a_safe_next(client, user):
    """After signing in, the browser returns to the page it was sent away from."""
    response = sign_in(client, next_url="/rooms/music/")

    assert response.status_code == 302
    assert response["Location"] == "/rooms/music/"


@pytest.mark.parametrize(
    "next_url",
    [
        "https://evil.example/",
        "//evil.example",
        "//evil.example/rooms/",
        "http://evil.example/rooms/",
        "https:evil.example",
        "/\\evil.example",
        "javascript:alert(1)",
    ],
)
def test_login_ignores_an_off_site_next(client, user, next_url):
    """An off-site `next` never becomes a redirect: the dashboard is used instead."""
    response = sign_in(client, next_url=next_url)

    assert response.status_code == 302
    assert response["Location"] == "/rooms/"


def test_login_page_redirects_someone_already_signed_in(client, user):
    """A signed-in person visiting the login page goes to the rooms."""
    client.force_login(user)

    response = client.get("/accounts/login/")

    assert response.status_code == 302
    assert response["Location"] == "/rooms/"


def test_logout_by_get_is_not_allowed(client, user):
    """Signing out needs a POST: a link or an image cannot sign someone out."""
    client.force_login(user)

    response = client.get("/accounts/logout/")

    assert response.status_code == 405
    assert client.get("/rooms/general/token/").status_code == 200


def test_logout_ends_the_session_and_goes_to_the_landing_page(client, user):
    """After signing out, the token endpoint answers 401 and the browser is on /."""
    client.force_login(user)
    assert client.get("/rooms/general/token/").status_code == 200

    response = client.post("/accounts/logout/")

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/rooms/general/token/").status_code == 401
    assert client.get("/rooms/")["Location"] == "/accounts/login/?next=/rooms/"


def test_logout_when_already_signed_out_still_lands_on_the_landing_page(client):
    """Signing out twice (two tabs) is harmless."""
    response = client.post("/accounts/logout/")

    assert response.status_code == 302
    assert response["Location"] == "/"


def test_logout_without_csrf_token_is_refused(user):
    """A cross-site form cannot sign someone out: no CSRF token, 403, still signed in."""
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)

    response = browser.post("/accounts/logout/")

    assert response.status_code == 403
    assert browser.get("/rooms/general/token/").status_code == 200


def test_logout_with_the_pages_csrf_token_works(user):
    """The sign-out button on a page, which carries the CSRF token, signs out."""
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    browser.get("/rooms/")
    token = browser.cookies["csrftoken"].value

    response = browser.post("/accounts/logout/", {"csrfmiddlewaretoken": token})

    assert response.status_code == 302
    assert browser.get("/rooms/general/token/").status_code == 401


def test_login_without_csrf_token_is_refused(user):
    """A cross-site form cannot sign someone in to the attacker's account."""
    browser = Client(enforce_csrf_checks=True)

    response = browser.post("/accounts/login/", {"username": "alice", "password": factories.PASSWORD})

    assert response.status_code == 403


# Landing ------------------------------------------------------------------------------


def test_landing_page_welcomes_anonymous_visitors(client):
    """A signed-out visitor sees the landing page with a way to sign in."""
    response = client.get("/")

    assert response.status_code == 200
    content = response.content.decode()
    assert "Live chat rooms, secure by default." in content
    assert 'href="/accounts/login/"' in content


def test_landing_page_sends_signed_in_people_to_their_rooms(client, user):
    """A signed-in visitor goes straight to the dashboard."""
    client.force_login(user)
    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"] == "/rooms/"
