"""uvicorn's httptools protocol with a deadline for each request's headers.

uvicorn times out a keep-alive connection only after a response: one that
sends nothing, or half a request line, or its headers a byte a minute, stays
open for good. The Procfile runs this class (`--http
chatsite.http_protocol:HttpProtocol`): a connection whose request headers are
not complete HTTP_HEADER_TIMEOUT seconds after it opened (or after its
previous response) is closed. A WebSocket is past its headers once upgraded.
"""

from __future__ import annotations

import asyncio

from django.conf import settings
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class HttpProtocol(HttpToolsProtocol):
    """httptools, closing connections whose request headers do not arrive in time."""

    header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.header_deadline_start()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.header_deadline_start()

    def on_headers_complete(self) -> None:
        self.header_deadline_stop()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self.header_deadline_stop()
        super().connection_lost(exc)

    def header_deadline_start(self) -> None:
        self.header_deadline_stop()
        self.header_timer = self.loop.call_later(settings.HTTP_HEADER_TIMEOUT, self.header_deadline_passed)

    def header_deadline_stop(self) -> None:
        if self.header_timer is not None:
            self.header_timer.cancel()
            self.header_timer = None

    def header_deadline_passed(self) -> None:
        self.header_timer = None
        if not self.transport.is_closing():
            self.transport.close()
