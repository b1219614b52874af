"""Security headers on every page: CSP (with this site's own WebSocket origin), framing, sniffing, cookies."""

from __future__ import annotations

import re

import pytest

from tests.factories import PASSWORD, user_create

pytestmark = pytest.mark.django_db

PUBLIC_PAGES = ["/", "/accounts/login/"]
SIGNED_IN_PAGES = ["/rooms/", "/rooms/general/"]


@pytest.fixture
def signed_in(client):
    """A browser signed in with a local account."""
    client.force_login(user_create(username="alice", display_name="Alice"))
    return client


def csp(response) -> dict[str, list[str]]:
    """The response's Content-Security-Policy as {directive: [sources]}."""
    header = response.headers.get("Content-Security-Policy")
    assert header, f"{response.request['PATH_INFO']} has no Content-Security-Policy header"
    return {name: sources for name, *sources in (part.split() for part in header.split(";") if part.strip())}


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_public_pages_send_a_csp_with_default_src_self(client, path):
    """Pages anyone can open carry a CSP whose default is this site only."""
    response = client.get(path)
    assert response.status_code == 200
    assert csp(response)["default-src"] == ["'self'"]


@pytest.mark.parametrize("path", SIGNED_IN_PAGES)
def test_signed_in_pages_send_a_csp_with_default_src_self(signed_in, path):
    """The dashboard and the room page carry a CSP whose default is this site only."""
    response = signed_in.get(path)
    assert response.status_code == 200
    assert csp(response)["default-src"] == ["'self'"]


@pytest.mark.parametrize("path", SIGNED_IN_PAGES)
def test_scripts_come_only_from_this_site(signed_in, path):
    """script-src is 'self': no 'unsafe-inline', no 'unsafe-eval', no wildcard, no data:."""
    sources = csp(signed_in.get(path))["script-src"]
    assert sources == ["'self'"]


def test_room_page_may_open_websockets_to_its_own_origin_only(signed_in):
    """connect-src names the page's own ws:// origin, and no other WebSocket origin or scheme wildcard."""
    sources = csp(signed_in.get("/rooms/general/"))["connect-src"]
    assert "'self'" in sources
    assert "ws://testserver" in sources
    assert not {"ws:", "wss:", "*", "ws://*", "wss://*"} & set(sources)
    assert [s for s in sources if s.startswith(("ws:", "wss:"))] == ["ws://testserver"]


def test_websocket_origin_follows_the_host_and_port_served(signed_in):
    """Served as localhost:8000, the page may connect to ws://localhost:8000 (not ws://testserver)."""
    sources = csp(signed_in.get("/rooms/general/", HTTP_HOST="localhost:8000"))["connect-src"]
    assert "ws://localhost:8000" in sources
    assert "ws://testserver" not in sources


def test_https_page_may_open_only_wss(signed_in):
    """A page served over HTTPS may connect to wss:// of its host, never to plain ws://."""
    sources = csp(signed_in.get("/rooms/general/", secure=True))["connect-src"]
    assert "wss://testserver" in sources
    assert "ws://testserver" not in sources


def test_pages_cannot_be_framed_or_load_plugins(client):
    """frame-ancestors 'none' and X-Frame-Options DENY (clickjacking); no <object>, no <base> tricks."""
    response = client.get("/accounts/login/")
    policy = csp(response)
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert response["X-Frame-Options"] == "DENY"


def test_forms_post_only_to_this_site_without_a_provider(client):
    """form-action is 'self' when no OpenID provider is configured."""
    assert csp(client.get("/accounts/login/"))["form-action"] == ["'self'"]


def test_responses_forbid_sniffing_and_limit_the_referrer(client):
    """nosniff, and the Referer (which may hold a room URL) never leaves the site."""
    response = client.get("/")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_session_cookie_is_http_only_and_same_site(client):
    """Scripts cannot read the session cookie, and cross-site requests do not carry it."""
    user_create(username="alice")
    client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    cookie = client.cookies["sessionid"]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"


# Scripts: only the site's own files, never inline.


def script_src(response) -> str:
    """The script-src directive of a response's CSP (or default-src when it has none)."""
    directives = dict(
        part.strip().split(" ", 1) if " " in part.strip() else (part.strip(), "")
        for part in response["Content-Security-Policy"].split(";")
        if part.strip()
    )
    return directives.get("script-src", directives.get("default-src", ""))


def assert_csp_allows_only_own_scripts(response) -> None:
    """The page's CSP loads scripts from the site only: no inline, no eval, no wildcard."""
    assert response.status_code == 200
    scripts = script_src(response)
    assert "'self'" in scripts
    assert "'unsafe-inline'" not in scripts
    assert "'unsafe-eval'" not in scripts
    assert "*" not in scripts.split()


@pytest.mark.parametrize("path", ["/", "/accounts/login/"])
def test_public_pages_send_a_csp_without_unsafe_inline_scripts(client, path):
    """Pages anyone can see carry a CSP whose scripts come only from the site."""
    assert_csp_allows_only_own_scripts(client.get(path))


@pytest.mark.parametrize("path", ["/rooms/", "/rooms/general/"])
def test_signed_in_pages_send_a_csp_without_unsafe_inline_scripts(signed_in, path):
    """Room pages carry a CSP whose scripts come only from the site."""
    assert_csp_allows_only_own_scripts(signed_in.get(path))


@pytest.mark.parametrize("path", ["/rooms/", "/rooms/general/"])
def test_pages_load_scripts_from_files_only(signed_in, path):
    """Every script on a page comes from a static file, with no inline code for the CSP to block.

    A JSON data block (json_script: the room's history) is data, never run.
    """
    content = signed_in.get(path).content.decode()

    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", content, flags=re.DOTALL)
    code = [(attributes, body) for attributes, body in scripts if 'type="application/json"' not in attributes]
    assert code
    for attributes, body in code:
        assert 'src="/static/' in attributes
        assert body.strip() == ""
