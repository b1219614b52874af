"""django-csp, with this site's own WebSocket origin in connect-src."""

from __future__ import annotations

from csp.middleware import CSPMiddleware, PolicyParts
from django.http import HttpRequest
from django.http.response import HttpResponseBase


class ChatCSPMiddleware(CSPMiddleware):
    """Allow the page to open WebSockets to exactly the host that served it.

    Not every browser counts ws:/wss: of the page's host as 'self', and the
    host (and port) is known only per request.
    """

    def get_policy_parts(
        self, request: HttpRequest, response: HttpResponseBase, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if report_only:
            return parts
        websocket_origin = f"{'wss' if request.is_secure() else 'ws'}://{request.get_host()}"
        parts.update = {**(parts.update or {}), "connect-src": [websocket_origin]}
        return parts
