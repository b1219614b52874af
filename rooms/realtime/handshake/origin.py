"""Admit WebSockets only from the site's own origin: scheme, host and port.

Channels' AllowedHostsOriginValidator compares host names only, so a page on
http://127.0.0.1:8999 could open sockets to a site on :8000. Like Django's
CSRF origin check, we compare the whole origin with the request's own.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host

logger = logging.getLogger("rooms.ws")

DEFAULT_PORTS = {"http": 80, "https": 443}


def _normalized(origin: str) -> tuple[str, str, int] | None:
    try:
        parts = urlsplit(origin.strip().lower())
        port = parts.port or DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        return None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname or port is None:
        return None
    return parts.scheme, parts.hostname, port


def _site_scheme(scope: dict, headers: dict[bytes, bytes]) -> str:
    # Behind a TLS-terminating proxy, trust its header exactly when Django does.
    proxy_header = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if proxy_header:
        name, secure_value = proxy_header
        header = name.removeprefix("HTTP_").replace("_", "-").lower().encode()
        if headers.get(header, b"").decode("latin-1").split(",")[0].strip() == secure_value:
            return "https"
    return "https" if scope.get("scheme") == "wss" else "http"


def origin_allowed(scope: dict) -> bool:
    """True when the handshake's Origin is the site's own (or a trusted) origin."""
    headers = dict(scope.get("headers", []))
    origin = headers.get(b"origin", b"").decode("latin-1")
    host = headers.get(b"host", b"").decode("latin-1")
    domain, _port = split_domain_port(host)
    if not origin or not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return False
    claimed = _normalized(origin)
    if claimed is None:
        return False
    own = _normalized(f"{_site_scheme(scope, headers)}://{host}")
    trusted = {_normalized(o) for o in settings.CSRF_TRUSTED_ORIGINS}
    return claimed == own or claimed in trusted


class SameOriginValidator:
    """ASGI middleware refusing (HTTP 403) WebSockets from any other origin."""

    def __init__(self, application) -> None:
        self.application = application

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket" and not origin_allowed(scope):
            headers = dict(scope.get("headers", []))
            logger.warning(
                "websocket refused: origin %r is not this site's (host %r)",
                headers.get(b"origin", b"").decode("latin-1"),
                headers.get(b"host", b"").decode("latin-1"),
            )
            return await WebsocketDenier()(scope, receive, send)
        return await self.application(scope, receive, send)
