"""Server-to-client frames: plain dicts in, plain dicts out, JSON-safe.

Each broadcast is encoded once by the sender (`encode`) and the same text is
written to every socket in the room. `message_frame` is the one serializer of
a stored message, for sockets and the history endpoint alike.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rooms.models import Message

Frame = dict[str, Any]


def encode(frame: Frame | list[Frame]) -> str:
    """Serialize a frame (or a list of them) for the wire."""
    return json.dumps(frame, ensure_ascii=False, separators=(",", ":"))


def iso_utc(moment: datetime) -> str:
    """ISO 8601 in UTC with a Z, as browsers parse it everywhere."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def member(*, user_id: int, name: str) -> Frame:
    """A person as frames show them."""
    return {"id": user_id, "name": name}


def message(
    *,
    message_id: int,
    room: str,
    user_id: int,
    user_name: str,
    text: str,
    sent_at: str,
    client_id: str,
    seq: int,
    mentions: list[int] | None = None,
    reactions: list[Frame] | None = None,
    edited_at: str | None = None,
) -> Frame:
    """A chat message, live or in history; `seq` is the room event that created it.

    `mentions`: ids of the people it mentions. `reactions` only when it has
    some, `edited_at` only once edited: most messages never have either.
    """
    frame: Frame = {
        "type": "message",
        "id": message_id,
        "room": room,
        "user": member(user_id=user_id, name=user_name),
        "text": text,
        "sent_at": sent_at,
        "client_id": client_id or None,
        "seq": seq,
        "mentions": mentions or [],
    }
    if reactions:
        frame["reactions"] = reactions
    if edited_at:
        frame["edited_at"] = edited_at
    return frame


def message_frame(stored: Message) -> Frame:
    """The wire form of a stored message, as it reads now (edits and reactions included)."""
    return message(
        message_id=stored.pk,
        room=stored.room.slug,
        user_id=stored.author_id,
        user_name=stored.author.get_display_name(),
        text=stored.text,
        sent_at=iso_utc(stored.created_at),
        client_id=stored.client_id,
        seq=stored.seq,
        mentions=stored.mention_ids,
        reactions=stored.reactions,
        edited_at=_edited_at(stored),
    )


def _edited_at(stored: Message) -> str | None:
    return iso_utc(stored.edited_at) if stored.edited_at else None


def search_result(
    stored: Message, *, room_name: str, room_kind: str, parts: list[dict[str, str | bool]]
) -> Frame:
    """A message a search found: the message as history shows it, where it is, and its text in parts.

    `parts` are the text cut where words match ({"text", "match"}), in order:
    pages show them with DOM calls, never as markup.
    """
    return {**message_frame(stored), "room_name": room_name, "room_kind": room_kind, "parts": parts}


def message_latest_event(stored: Message) -> Frame:
    """A stored message as a replayed room event: its latest state, at the seq of its latest change.

    A deleted message replays as its deletion only: its text is never sent
    again. Any other replays as the whole message at `changed_seq`, so an
    edit or a reaction the client missed arrives as the message now reads
    (clients update a message they show from a message frame of its id).
    """
    if stored.deleted_at is not None:
        return message_deleted(stored.pk, seq=stored.changed_seq)
    frame = message_frame(stored)
    frame["seq"] = stored.changed_seq
    return frame


def message_edited(stored: Message) -> Frame:
    """Its author edited a message: the new text, who it mentions now, when (room event `seq`)."""
    return {
        "type": "message_edited",
        "id": stored.pk,
        "seq": stored.changed_seq,
        "text": stored.text,
        "edited_at": _edited_at(stored),
        "mentions": stored.mention_ids,
    }


def reaction_summary(rows: list[tuple[str, int]]) -> list[Frame]:
    """A message's reactions from (emoji, user id) pairs in the order they were made.

    Each emoji once, in the order it was first used, with everyone who used it.
    """
    by_emoji: dict[str, list[int]] = {}
    for emoji, user_id in rows:
        by_emoji.setdefault(emoji, []).append(user_id)
    return [{"emoji": e, "count": len(ids), "user_ids": ids} for e, ids in by_emoji.items()]


def reactions(stored: Message) -> Frame:
    """Someone toggled a reaction on a message: all of its reactions now (room event `seq`)."""
    return {"type": "reactions", "id": stored.pk, "seq": stored.changed_seq, "reactions": stored.reactions}


def welcome(
    *,
    room: Frame,
    user: Frame,
    users: list[Frame],
    history: list[Frame],
    has_more: bool = False,
    seq: int = 0,
    epoch: str = "",
    recovered: bool | None = None,
    events: list[Frame] | None = None,
    renew_in: int | None = None,
) -> Frame:
    """The first frame after connect, and where the room's event log stands (`seq`, `epoch`).

    `has_more` when a resume by message id left older missed messages out. A
    resume by seq says whether it was `recovered`: then `events` holds every
    event after the client's seq and `history` is empty; if not, `history` is
    the latest and the client replaces its view. `renew_in`: seconds until the
    socket closes (4401) unless the page sends a fresh ticket (`refresh`).
    """
    frame: Frame = {
        "type": "welcome",
        "room": room,
        "user": user,
        "users": users,
        "history": history,
        "has_more": has_more,
        "seq": seq,
        "epoch": epoch,
    }
    if renew_in is not None:
        frame["renew_in"] = renew_in
    if recovered is not None:
        frame["recovered"] = recovered
    if events is not None:
        frame["events"] = events
    return frame


def encode_welcome(
    *,
    room: Frame,
    user: Frame,
    users: str,
    history: str,
    has_more: bool = False,
    seq: int = 0,
    epoch: str = "",
    recovered: bool | None = None,
    events: str | None = None,
    renew_in: int | None = None,
) -> str:
    """`encode(welcome(...))` from `users`, `history` and `events` already encoded.

    Joiners of one room share those lists, so each is encoded once and
    spliced in; a room of N people would otherwise encode N members per join.
    """
    frame = welcome(
        room=room,
        user=user,
        users=[],
        history=[],
        has_more=has_more,
        seq=seq,
        epoch=epoch,
        recovered=recovered,
        events=None if events is None else [],
        renew_in=renew_in,
    )
    head, found, tail = encode(frame).partition('"users":[],"history":[]')
    # welcome() changed its layout: splice nothing rather than garbage.
    if not found or (events is not None and not tail.endswith('"events":[]}')):
        raise ValueError("welcome() no longer holds users then history, and events last")
    if events is not None:
        tail = f"{tail[: -len('[]}')]}{events}}}"
    return f'{head}"users":{users},"history":{history}{tail}'


def refreshed(*, renew_in: int | None) -> Frame:
    """A refresh was taken: the socket's new deadline, in seconds from now."""
    return {"type": "refreshed", "renew_in": renew_in}


def position(*, seq: int, epoch: str) -> Frame:
    """Where the room's event log stands, sent now and then: a client behind it fetches what it missed."""
    return {"type": "position", "seq": seq, "epoch": epoch}


def user_joined(user: Frame) -> Frame:
    """A user's first connection to the room opened."""
    return {"type": "user_joined", "user": user}


def user_left(user: Frame) -> Frame:
    """A user's last connection to the room closed."""
    return {"type": "user_left", "user": user}


def presence_diff(*, joins: list[Frame], leaves: list[Frame]) -> Frame:
    """Several presence changes at once (a connect storm): who came, who went, each user once."""
    return {"type": "presence_diff", "joins": joins, "leaves": leaves}


def message_deleted(message_id: int, *, seq: int, client_id: str = "") -> Frame:
    """A message was removed (room event `seq`); its sender's retry also learns the client_id it sent."""
    frame: Frame = {"type": "message_deleted", "id": message_id, "seq": seq}
    if client_id:
        frame["client_id"] = client_id
    return frame


def typing(user: Frame) -> Frame:
    """Someone is writing in the room: shown for a few seconds, never stored, no seq."""
    return {"type": "typing", "user": user}


def read(*, seq: int) -> Frame:
    """This user has read the room up to `seq` (in another tab, say)."""
    return {"type": "read", "seq": seq}


def dashboard_room(
    *,
    slug: str,
    name: str,
    kind: str,
    description: str,
    unread: int,
    mentions: int,
    online: int,
    last_activity: datetime | None,
) -> Frame:
    """One room as one person's dashboard shows it; `kind` public, private or direct (listed apart)."""
    return {
        "slug": slug,
        "name": name,
        "kind": kind,
        "description": description,
        "unread": unread,
        "mentions": mentions,
        "online": online,
        "last_activity": iso_utc(last_activity) if last_activity else None,
    }


def dashboard(*, kind: str, rooms: list[Frame]) -> Frame:
    """The dashboard's rooms: all of them (`welcome`, first) or those that changed (`rooms`)."""
    return {"type": kind, "rooms": rooms}


def room_closed() -> Frame:
    """The room was archived; the socket closes with 4404 next."""
    return {"type": "room_closed"}


def error(
    *,
    code: str,
    detail: str,
    client_id: str = "",
    retry_after: float | None = None,
    message_id: int | None = None,
) -> Frame:
    """A refused frame; the socket stays open.

    `client_id`: the refused message's, so the page knows which one it was.
    `message_id` (`id`): the message a refused edit, delete or react was about.
    `retry_after`: seconds until a rate-limited message may be sent again.
    """
    frame: Frame = {"type": "error", "code": code, "detail": detail}
    if client_id:
        frame["client_id"] = client_id
    if message_id is not None:
        frame["id"] = message_id
    if retry_after is not None:
        frame["retry_after"] = math.ceil(retry_after * 10) / 10
    return frame
