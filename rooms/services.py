"""Writes: messages, deletions, archiving, mutes; sockets hear of each on commit (rooms.realtime.notify)."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, transaction
from django.utils import timezone

from accounts.models import User
from accounts.selectors import user_ids_by_handles
from chatsite.text import text_is_visible
from rooms.access import people_inside
from rooms.exceptions import (
    ChatError,
    EditWindowOver,
    EmptyMessage,
    MessageNotFound,
    MessageTooLong,
    NotAuthor,
    TooManyReactions,
)
from rooms.message_text import mentioned_handles, reaction_clean_emoji
from rooms.models import Mention, Message, MessageRevision, Reaction, Room, RoomMute, RoomRead, new_epoch
from rooms.realtime import notify
from rooms.realtime.protocol import outbound
from rooms.selectors import message_get_by_client_id

logger = logging.getLogger(__name__)


def message_clean_text(text: str) -> str:
    """Strip a message's text, or raise EmptyMessage (nothing visible) / MessageTooLong."""
    text = text.strip()
    if not text or not text_is_visible(text):
        raise EmptyMessage()
    limit = settings.CHAT_MAX_MESSAGE_LENGTH
    if len(text) > limit:
        raise MessageTooLong(f"Messages are at most {limit} characters; that one has {len(text)}.")
    return text


def room_seq_next(*, room: Room, count: int = 1) -> int:
    """The room's next seq (or the last of `count` in a row), in the transaction storing the event.

    The one place a seq is assigned. The UPDATE locks the room's row until the
    transaction ends (SQLite's immediate transactions lock the whole database),
    so concurrent writers on any process take 1, 2, 3, ... in turn and commit
    in that order; a rolled-back transaction gives its seq back: no gaps, no reuse.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("room_seq_next() must run inside the transaction that stores the event")
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Room._meta.db_table} SET seq = seq + %s WHERE id = %s RETURNING seq",  # noqa: S608
            [count, room.pk],
        )
        (seq,) = cursor.fetchone()
    return seq


def room_epoch_renew(*, slugs: list[str] | None = None) -> int:
    """Give these rooms (or all) a new epoch: seqs clients hold from before mean nothing now.

    Returns how many rooms were renewed. Open sockets keep theirs until they
    reconnect, when their resume is refused and they start over.
    """
    rooms = Room.objects.all() if slugs is None else Room.objects.filter(slug__in=slugs)
    renewed = 0
    for room in rooms.only("pk"):
        renewed += Room.objects.filter(pk=room.pk).update(epoch=new_epoch())
    logger.info("new event-log epoch for %s room(s)", renewed)
    return renewed


@dataclass(frozen=True)
class MessageDraft:
    """A message someone sent, not stored yet."""

    room: Room
    author: User
    text: str
    client_id: str = ""


def message_create(*, room: Room, author, text: str, client_id: str = "") -> tuple[Message, bool]:
    """Store a message; a retry with the same client_id returns the stored one.

    Returns the message and whether it was created now (False for a retry).
    A retry of a message a moderator has deleted returns that deleted message:
    callers check `deleted_at` before showing it to anyone.
    """
    return _message_store(
        _message_prepare(MessageDraft(room=room, author=author, text=text, client_id=client_id))
    )


def message_create_many(drafts: Sequence[MessageDraft]) -> list[tuple[Message, bool] | Exception]:
    """Store messages in order, those that can be in one transaction: one commit for many.

    Each draft's outcome, in the drafts' order, is what message_create gives
    or raises for it. A draft refused for its text (a ChatError) fails alone.
    When one of them retries a stored message, the transaction rolls back and
    each is stored on its own, so a retry is answered as message_create
    answers it. Any other error in their shared transaction stores none of
    them and is raised.
    """
    outcomes: list[tuple[Message, bool] | Exception | None] = [None] * len(drafts)
    ready: list[tuple[int, _Prepared]] = []
    for index, draft in enumerate(drafts):
        try:
            ready.append((index, _message_prepare(draft)))
        except ChatError as refused:
            outcomes[index] = refused
    alone = ready
    if len(ready) > 1:
        try:
            with transaction.atomic():
                stored = _messages_insert([prepared for _, prepared in ready])
        except IntegrityError:
            pass  # a retry among them (a resend after a reconnect): rare; each is answered as if alone
        else:
            for (index, _), message in zip(ready, stored, strict=True):
                outcomes[index] = (message, True)
            alone = []
    for index, prepared in alone:
        try:
            outcomes[index] = _message_store(prepared)
        except Exception as error:  # those before it are stored by now: this one alone fails
            outcomes[index] = error
    return cast("list[tuple[Message, bool] | Exception]", outcomes)  # every draft has its outcome now


@dataclass(frozen=True)
class _Prepared:
    """A draft with its text cleaned and its mentions found: what the transaction stores."""

    draft: MessageDraft
    text: str
    mentioned: list[int]


def _message_prepare(draft: MessageDraft) -> _Prepared:
    """Clean the draft's text (or raise EmptyMessage / MessageTooLong) and find whom it mentions."""
    text = message_clean_text(draft.text)
    return _Prepared(
        draft=draft, text=text, mentioned=_mentioned_ids(text, author=draft.author, room=draft.room)
    )


def _message_store(prepared: _Prepared) -> tuple[Message, bool]:
    """Store one message in a transaction of its own; a retry returns the stored one, created False."""
    # Insert first: retries are rare, so the usual message costs its seq and
    # one insert; the unique (room, author, client_id) index turns a retry into
    # IntegrityError, which rolls the seq back too.
    try:
        with transaction.atomic():
            (message,) = _messages_insert([prepared])
            return message, True
    except IntegrityError:
        # A retry (a resend after a reconnect, or two tabs racing), perhaps
        # of a message that has since been deleted.
        draft = prepared.draft
        existing = message_get_by_client_id(
            room=draft.room, author=draft.author, client_id=draft.client_id, include_deleted=True
        )
        if existing is None:
            raise
        return existing, False


def _messages_insert(batch: list[_Prepared]) -> list[Message]:
    """Give each message its room's next seq, in order, and store them with their mentions.

    Each room's seqs are taken at once, rooms in id order: two processes
    storing messages of the same rooms lock them in the same order, never
    each waiting on the other.
    """
    per_room = Counter(prepared.draft.room.pk for prepared in batch)
    rooms = {prepared.draft.room.pk: prepared.draft.room for prepared in batch}
    next_seq = {}
    for room_id in sorted(per_room):
        count = per_room[room_id]
        next_seq[room_id] = room_seq_next(room=rooms[room_id], count=count) - count + 1
    messages = []
    for prepared in batch:
        draft, room_id = prepared.draft, prepared.draft.room.pk
        seq, next_seq[room_id] = next_seq[room_id], next_seq[room_id] + 1
        messages.append(
            Message(
                room=draft.room,
                author=draft.author,
                text=prepared.text,
                client_id=draft.client_id,
                seq=seq,
                changed_seq=seq,
                mention_ids=prepared.mentioned,
            )
        )
    _message_rows_insert(messages)
    mentions = [
        Mention(message=message, user_id=uid)
        for message, prepared in zip(messages, batch, strict=True)
        for uid in prepared.mentioned
    ]
    if mentions:
        Mention.objects.bulk_create(mentions)
    return messages


def _message_rows_insert(messages: list[Message]) -> None:
    """INSERT new messages, one statement per batch, and give each instance the id stored.

    Every message sent comes through here. bulk_create's building of this one
    statement cost more CPU than SQLite's running and committing it
    (bench/database_hop.py), so it is written out. Each value is what the ORM
    would store: its field's pre_save (created_at's auto_now_add), then its
    adapter for the backend (get_db_prep_save). The caller holds the transaction.
    """
    if not messages:
        return
    db = connections[DEFAULT_DB_ALIAS]  # the proxy `connection` would look it up at every use
    quote = db.ops.quote_name
    meta = Message._meta
    fields = [field for field in meta.concrete_fields if not field.primary_key and not field.generated]
    columns = ", ".join(quote(field.column) for field in fields)
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    # RETURNING's order is not promised: each id is matched by its room and seq.
    named = {field.name: field for field in meta.concrete_fields}
    returning = ", ".join(quote(named[name].column) for name in ("room", "seq", "id"))
    per_statement = db.ops.bulk_batch_size(fields, messages)
    with db.cursor() as cursor:
        for start in range(0, len(messages), per_statement):
            chunk = messages[start : start + per_statement]
            params = [
                field.get_db_prep_save(field.pre_save(message, True), db)
                for message in chunk
                for field in fields
            ]
            cursor.execute(
                f"INSERT INTO {quote(meta.db_table)} ({columns})"  # noqa: S608
                f" VALUES {', '.join([row] * len(chunk))} RETURNING {returning}",
                params,
            )
            ids = {(room_id, seq): pk for room_id, seq, pk in cursor.fetchall()}
            for message in chunk:
                message.pk = ids[(message.room_id, message.seq)]
                message._state.adding = False
                message._state.db = db.alias


def _mentioned_ids(text: str, *, author: User, room: Room) -> list[int]:
    """Ids of the people who may read `room` whom `text` @mentions, first first; never the author."""
    handles = mentioned_handles(text)
    if not handles:
        return []  # most messages: no queryset to build
    ids = user_ids_by_handles(handles=handles, among=people_inside(room=room))
    in_order = (ids[handle] for handle in handles if handle in ids)
    return [uid for uid in dict.fromkeys(in_order) if uid != author.pk]


def _mentions_replace(message: Message, mentioned: list[int]) -> None:
    """Make the message's Mention rows the people its text mentions now (an edit may add or drop some)."""
    Mention.objects.filter(message=message).exclude(user_id__in=mentioned).delete()
    rows = [Mention(message=message, user_id=uid) for uid in mentioned]
    Mention.objects.bulk_create(rows, ignore_conflicts=True)


def _message_locked(*, room: Room, message_id: int) -> Message:
    """The room's message, not deleted, its row locked until the transaction ends; or MessageNotFound."""
    # The message's row alone: a join here would lock its author's row too
    # (PostgreSQL), and every message they send would wait on it.
    message = (
        Message.objects.select_for_update().filter(room=room, pk=message_id, deleted_at__isnull=True).first()
    )
    if message is None:
        raise MessageNotFound()
    return message


def message_edit(*, room: Room, message_id: int, editor: User, text: str) -> tuple[Message, bool]:
    """Its author changes a message's text within CHAT_EDIT_WINDOW: a room event (message_edited).

    The text it replaces is kept as a MessageRevision; mentions follow the new
    text (one an edit adds counts like any other). Returns the message and
    whether it changed: the same text again is no event.
    """
    text = message_clean_text(text)
    with transaction.atomic():
        message = _message_locked(room=room, message_id=message_id)
        if message.author_id != editor.pk:
            raise NotAuthor()
        window = settings.CHAT_EDIT_WINDOW
        if window <= 0 or timezone.now() - message.created_at > timedelta(seconds=window):
            raise EditWindowOver()
        if text == message.text:
            return message, False
        MessageRevision.objects.create(
            message=message, text=message.text, written_at=message.edited_at or message.created_at
        )
        mentioned = _mentioned_ids(text, author=editor, room=room)
        _mentions_replace(message, mentioned)
        message.text, message.edited_at, message.mention_ids = text, timezone.now(), mentioned
        message.changed_seq = room_seq_next(room=room)
        message.save(update_fields=["text", "edited_at", "mention_ids", "changed_seq"])
        notify.room_send_on_commit(room=room.slug, frame=outbound.message_edited(message))
    return message, True


@transaction.atomic
def message_delete(*, message: Message, by: User) -> None:
    """Hide a message from history and from everyone's screen: a room event with its own seq.

    Its author may delete it at any time, a moderator (staff) any message; the
    event is the same. Anyone else gets NotAuthor.
    """
    if message.author_id != by.pk and not by.is_staff:
        raise NotAuthor("Only its author or a moderator can delete that message.")
    # Locked and read again: of two people deleting at once, one makes the event.
    current = Message.objects.select_for_update().filter(pk=message.pk).values("deleted_at").first()
    if current is None or current["deleted_at"] is not None:
        return
    seq = room_seq_next(room=message.room)
    message.deleted_at, message.changed_seq = timezone.now(), seq
    message.save(update_fields=["deleted_at", "changed_seq"])
    # No one is told of a mention in text no one can read any more.
    Mention.objects.filter(message=message).delete()
    logger.info("message %s in %s deleted by %s", message.pk, message.room.slug, by)
    notify.room_send_on_commit(room=message.room.slug, frame=outbound.message_deleted(message.pk, seq=seq))


@transaction.atomic
def message_delete_in_room(*, room: Room, message_id: int, by: User) -> None:
    """message_delete for a message known by id (a socket's delete frame); MessageNotFound if it is gone."""
    message = _message_locked(room=room, message_id=message_id)
    message.room = room
    message_delete(message=message, by=by)


def reaction_toggle(*, room: Room, message_id: int, user: User, emoji: str) -> Message:
    """Add this person's emoji to a message, or take it back if they had: a room event (reactions).

    A new emoji is refused (TooManyReactions) once the message carries
    CHAT_MAX_REACTIONS distinct ones; joining one already there never is.
    """
    emoji = reaction_clean_emoji(emoji)
    with transaction.atomic():
        message = _message_locked(room=room, message_id=message_id)
        taken_back, _ = Reaction.objects.filter(message=message, user=user, emoji=emoji).delete()
        if not taken_back:
            shown = {reaction["emoji"] for reaction in message.reactions}
            if emoji not in shown and len(shown) >= settings.CHAT_MAX_REACTIONS:
                raise TooManyReactions()
            Reaction.objects.create(message=message, user=user, emoji=emoji)
        rows = Reaction.objects.filter(message=message).order_by("id").values_list("emoji", "user_id")
        message.reactions = outbound.reaction_summary(list(rows))
        message.changed_seq = room_seq_next(room=room)
        message.save(update_fields=["reactions", "changed_seq"])
        notify.room_send_on_commit(room=room.slug, frame=outbound.reactions(message))
    return message


def room_read_mark(*, user: User, room: Room, seq: int) -> bool:
    """Record that this person has seen the room up to `seq`: never backwards, never past the room's seq.

    Returns whether it moved; then their other tabs and their dashboard hear
    of it (UserEvent.READ). A first mark is their first entry to the room.
    """
    latest = Room.objects.filter(pk=room.pk).values_list("seq", flat=True).first()
    if latest is None:
        return False
    seq = max(0, min(seq, latest))
    moved = bool(
        RoomRead.objects.filter(user=user, room=room, seq__lt=seq).update(seq=seq, updated_at=timezone.now())
    )
    if not moved:
        _, created = RoomRead.objects.get_or_create(user=user, room=room, defaults={"seq": seq})
        # Two first marks at once (two tabs): the one that did not create the row moves it.
        later = RoomRead.objects.filter(user=user, room=room, seq__lt=seq)
        moved = created or bool(later.update(seq=seq, updated_at=timezone.now()))
    if moved:
        notify.user_read_notify(user_id=user.pk, room=room.slug, seq=seq)
    return moved


@transaction.atomic
def room_archive(*, room: Room, moderator=None) -> None:
    """Archive a room: it leaves the dashboard and its sockets close with 4404."""
    if room.archived:
        return
    room.archived = True
    room.save(update_fields=["archived"])
    logger.info("room %s archived by %s", room.slug, moderator)
    notify.room_close_on_commit(room=room.slug)


def room_access_changed(*, room: Room, moderator=None) -> None:
    """Who may enter the room changed (kind, members, groups): sockets of those who lost it close (4403).

    Each socket in the room re-checks its person once this commits, and every
    dashboard lists its rooms afresh, so those let in see it appear.
    """
    logger.info("access to room %s changed by %s", room.slug, moderator)
    notify.room_access_changed(room=room.slug)


@transaction.atomic
def user_mute(*, room: Room, user, until: datetime, moderator, reason: str = "") -> RoomMute:
    """Mute a user in a room until `until`; their open sockets learn it at once."""
    mute, _ = RoomMute.objects.update_or_create(
        room=room, user=user, defaults={"until": until, "reason": reason, "created_by": moderator}
    )
    logger.info("user %s muted in %s until %s by %s: %s", user.pk, room.slug, until, moderator, reason)
    notify.user_mute_notify(user_id=user.pk, room=room.slug, until=until)
    return mute


@transaction.atomic
def user_unmute(*, room: Room, user, moderator) -> None:
    """Lift a mute before its time."""
    RoomMute.objects.filter(room=room, user=user).delete()
    logger.info("user %s unmuted in %s by %s", user.pk, room.slug, moderator)
    notify.user_mute_notify(user_id=user.pk, room=room.slug, until=None)
