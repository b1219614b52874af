"""Client-to-server frames: parse and check their shape (no domain rules: those are the services')."""

from __future__ import annotations

import json
from dataclasses import dataclass

from rooms.exceptions import InvalidFrame, InvalidJson

CLIENT_ID_MAX_LENGTH = 64


@dataclass(frozen=True)
class ClientMessage:
    """A chat message a client sent, to be stored and broadcast to the room."""

    text: str
    client_id: str


def parse_client_frame(raw: str) -> ClientMessage:
    """Parse one text frame from a client, or raise InvalidJson / InvalidFrame."""
    try:
        frame = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise InvalidJson() from exc
    if not isinstance(frame, dict) or frame.get("type") != "message":
        raise InvalidFrame()
    text = frame.get("text")
    client_id = frame.get("client_id")
    if client_id is None:  # absent or null: the server itself sends null
        client_id = ""
    if not isinstance(text, str):
        raise InvalidFrame("A message needs a text string.")
    if not isinstance(client_id, str) or len(client_id) > CLIENT_ID_MAX_LENGTH:
        raise InvalidFrame(f"client_id must be a string of at most {CLIENT_ID_MAX_LENGTH} characters.")
    if not (_storable(text) and _storable(client_id)):
        raise InvalidFrame(UNSTORABLE_TEXT)
    return ClientMessage(text=text, client_id=client_id)


UNSTORABLE_TEXT = "Text must be valid Unicode without NUL characters."


def _storable(value: str) -> bool:
    # JSON escapes can smuggle in what no database stores: NUL (PostgreSQL
    # refuses it) and lone surrogates (not encodable as UTF-8).
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
