"""A text frame for many sockets: its ASGI message, and its WebSocket frame built once for all.

A server's frames are not masked (RFC 6455, 5.1), so one text frame's bytes
are the same for every client; with no extension negotiated (we turn
permessage-deflate off), they are what websockets would write for it. A
wire that can take them (rooms.realtime.wire.uvicorn) writes these bytes;
any other gets the ASGI message.
"""

from __future__ import annotations

import struct
from functools import cached_property

# FIN and the text opcode.
_TEXT_FIN = 0x81


def text_frame(text: str) -> bytes:
    """The unmasked, unfragmented WebSocket text frame of `text` (RFC 6455, 5.2)."""
    payload = text.encode()
    size = len(payload)
    if size < 126:
        header = struct.pack("!BB", _TEXT_FIN, size)
    elif size < 1 << 16:
        header = struct.pack("!BBH", _TEXT_FIN, 126, size)
    else:
        header = struct.pack("!BBQ", _TEXT_FIN, 127, size)
    return header + payload


class SharedFrame(dict):
    """The ASGI message `{"type": "websocket.send", "text": ...}` of a frame that many sockets get."""

    def __init__(self, text: str) -> None:
        super().__init__(type="websocket.send", text=text)

    @cached_property
    def wire_bytes(self) -> bytes:
        return text_frame(self["text"])
