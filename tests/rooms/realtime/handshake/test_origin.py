"""rooms.realtime.handshake.origin: sockets only from the site's own origin (scheme, host and port)."""

from __future__ import annotations

import pytest

from rooms.realtime.handshake.origin import origin_allowed

HOST = "chat.example"


@pytest.fixture(autouse=True)
def site(settings):
    """A site served as chat.example, trusting no other origin and no proxy header."""
    settings.ALLOWED_HOSTS = [HOST]
    settings.CSRF_TRUSTED_ORIGINS = []
    settings.SECURE_PROXY_SSL_HEADER = None
    return settings


def handshake(origin: str | None, *, host: str = HOST, scheme: str = "ws", **headers: str) -> dict:
    """The scope of a WebSocket handshake with these headers."""
    raw = {"host": host, **{name.replace("_", "-"): value for name, value in headers.items()}}
    if origin is not None:
        raw["origin"] = origin
    encoded = [(name.encode(), value.encode()) for name, value in raw.items()]
    return {"type": "websocket", "scheme": scheme, "headers": encoded}


def test_own_origin_is_accepted():
    """A page of this site, same scheme, host and port, may open sockets."""
    assert origin_allowed(handshake(f"http://{HOST}")) is True
    assert origin_allowed(handshake(f"https://{HOST}", scheme="wss")) is True


@pytest.mark.parametrize(
    "origin",
    [f"http://{HOST}:8999", f"https://{HOST}", "http://evil.example", "null", "", f"ftp://{HOST}"],
)
def test_other_origins_are_refused(origin):
    """Another port, scheme or host, an opaque origin or none at all is refused."""
    assert origin_allowed(handshake(origin)) is False


def test_missing_origin_is_refused():
    """A handshake without an Origin header is refused."""
    assert origin_allowed(handshake(None)) is False


def test_host_outside_allowed_hosts_is_refused():
    """A Host header this site does not serve is refused even when Origin matches it."""
    assert origin_allowed(handshake("http://evil.example", host="evil.example")) is False


def test_csrf_trusted_origins_are_accepted(site):
    """An origin listed in CSRF_TRUSTED_ORIGINS may open sockets too."""
    site.CSRF_TRUSTED_ORIGINS = ["https://app.example"]

    assert origin_allowed(handshake("https://app.example")) is True
    assert origin_allowed(handshake("https://app.example:8443")) is False


def test_https_origin_behind_a_tls_proxy_is_accepted(site):
    """Behind a proxy that says X-Forwarded-Proto: https, an https page of this site is its own origin."""
    site.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

    assert origin_allowed(handshake(f"https://{HOST}", x_forwarded_proto="https")) is True
    assert origin_allowed(handshake(f"http://{HOST}", x_forwarded_proto="https")) is False


def test_proxy_header_is_ignored_unless_configured():
    """Without SECURE_PROXY_SSL_HEADER a client cannot claim https with the header."""
    assert origin_allowed(handshake(f"https://{HOST}", x_forwarded_proto="https")) is False


@pytest.mark.parametrize(
    ("origin", "host", "scheme"),
    [
        (f"http://{HOST}:80", HOST, "ws"),
        (f"http://{HOST}", f"{HOST}:80", "ws"),
        (f"https://{HOST}:443", HOST, "wss"),
        (f"https://{HOST}", f"{HOST}:443", "wss"),
        (f"HTTP://{HOST.upper()}", HOST, "ws"),
    ],
)
def test_default_ports_and_case_are_normalised(origin, host, scheme):
    """http://host:80 is http://host, https://host:443 is https://host, and case does not matter."""
    assert origin_allowed(handshake(origin, host=host, scheme=scheme)) is True
