"""The ASGI server's side of one socket: can it take more bytes, and drop it when it cannot.

ASGI has no flow control beyond `send` awaiting (uvicorn) or not (daphne),
so each server gets an adapter found from the `send` it handed the app.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from django.conf import settings

from rooms.realtime.wire.base import UnknownWire, Wire


def wire_for(send: Callable) -> Wire:
    """The flow control of the server behind `send`: uvicorn, daphne, or none we know.

    The kernel's send buffer for the client is capped at CHAT_SOCKET_SEND_BUFFER
    (Linux would grow it to 4 MB for a client that never reads).
    """
    send_buffer = settings.CHAT_SOCKET_SEND_BUFFER
    # uvicorn hands the app its protocol's bound `send`.
    protocol = getattr(send, "__self__", None)
    if protocol is not None and hasattr(protocol, "writable") and hasattr(protocol, "transport"):
        from rooms.realtime.wire.uvicorn import UvicornWire

        return UvicornWire(protocol, send_buffer)
    # daphne hands it partial(server.handle_reply, protocol).
    if isinstance(send, partial) and send.args and hasattr(send.args[0], "transport"):
        from rooms.realtime.wire.daphne import DaphneWire

        return DaphneWire(send.args[0].transport, send_buffer)
    return UnknownWire()
