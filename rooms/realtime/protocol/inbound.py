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


@dataclass(frozen=True)
class ClientEdit:
    """The author changes the text of message `id`."""

    id: int
    text: str


@dataclass(frozen=True)
class ClientDelete:
    """The author (or a moderator) takes message `id` back."""

    id: int


@dataclass(frozen=True)
class ClientReact:
    """Toggle the sender's `emoji` on message `id`."""

    id: int
    emoji: str


@dataclass(frozen=True)
class ClientTyping:
    """The sender is writing a message (sent every few seconds while they do)."""


@dataclass(frozen=True)
class ClientRead:
    """The sender has seen the room up to room event `seq`."""

    seq: int


@dataclass(frozen=True)
class ClientRefresh:
    """A fresh ticket (fetched over HTTP) to keep the socket open past its deadline."""

    token: str


# A change to a message someone already sent: the frames beside "message".
ClientChange = ClientEdit | ClientDelete | ClientReact
# What the sender is doing: nothing stored in the room, nothing replayed.
ClientAwareness = ClientTyping | ClientRead
ClientFrame = ClientMessage | ClientChange | ClientAwareness | ClientRefresh

# Longer than any emoji sequence (rooms.message_text decides what one is).
EMOJI_FIELD_MAX_LENGTH = 64


def parse_client_frame(raw: str) -> ClientFrame:
    """Parse one text frame from a client, or raise InvalidJson / InvalidFrame."""
    try:
        frame = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise InvalidJson() from exc
    if not isinstance(frame, dict):
        raise InvalidFrame()
    kind = frame.get("type")
    if kind == "message":
        return _message(frame)
    if kind in ("edit", "delete", "react"):
        return _change(kind, frame)
    if kind == "typing":
        return ClientTyping()
    if kind == "read":
        seq = frame.get("seq")
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
            raise InvalidFrame("seq must be the seq of a room event (a whole number).")
        return ClientRead(seq=seq)
    if kind == "refresh":
        token = frame.get("token")
        if not isinstance(token, str) or not token:
            raise InvalidFrame("A refresh needs the new ticket's token, a string.")
        return ClientRefresh(token=token)
    raise InvalidFrame()


def _message_id(frame: dict) -> int:
    value = frame.get("id")
    # bool is an int to Python, never an id to us.
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise InvalidFrame("id must be the id of a message (a positive whole number).")
    return value


def _change(kind: str, frame: dict) -> ClientChange:
    message_id = _message_id(frame)
    if kind == "delete":
        return ClientDelete(id=message_id)
    if kind == "edit":
        text = frame.get("text")
        if not isinstance(text, str) or not _storable(text):
            raise InvalidFrame("An edit needs the new text, a string of valid Unicode.")
        return ClientEdit(id=message_id, text=text)
    emoji = frame.get("emoji")
    if not isinstance(emoji, str) or len(emoji) > EMOJI_FIELD_MAX_LENGTH or not _storable(emoji):
        raise InvalidFrame("A reaction needs an emoji string.")
    return ClientReact(id=message_id, emoji=emoji)


def _message(frame: dict) -> ClientMessage:
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
