"""Reads: rooms, users and message history as the wire shows them."""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.utils import timezone

from rooms.access import room_get_open, room_shown_name
from rooms.models import Message, Room, RoomMute
from rooms.realtime.protocol.outbound import Frame, encode, message_frame, message_latest_event

HISTORY_LENGTH = 50
HISTORY_PAGE_MAX = 100
# A client away for longer than this many messages resumes with the latest ones
# and pages further back through the history endpoint. A page, like history's:
# every connect builds its own, and one frame of 1,000 long messages was 8 MB.
RESUME_MAX = HISTORY_PAGE_MAX
# Room events one resume (or /events/ answer) replays at most; `has_more` says
# the client asks again from the seq it leaves it at.
RECOVERY_PAGE = HISTORY_PAGE_MAX
# A page's texts together, in characters. At 4 UTF-8 bytes each at most, a
# welcome stays under the 1 MiB a WebSocket message may be by default (daphne
# refuses to send a bigger one, websockets clients to receive it).
PAGE_TEXT_BUDGET = 192 * 1024


def room_get_active(*, slug: str) -> Room | None:
    """The room with this slug, unless it is unknown or archived."""
    return Room.objects.filter(slug=slug, archived=False).first()


def mute_until(*, room: Room, user_id: int) -> datetime | None:
    """Until when this user is muted in this room, if a mute is still running."""
    mute = RoomMute.objects.filter(room=room, user_id=user_id, until__gt=timezone.now()).first()
    return mute.until if mute else None


def room_list_active() -> QuerySet[Room]:
    """Rooms people can enter, by name."""
    return Room.objects.filter(archived=False).order_by("name")


def user_get_active(*, user_id: int):  # -> accounts.User | None
    """The active user with this id, or None."""
    return get_user_model().objects.filter(pk=user_id, is_active=True).first()


def message_get_in_room(*, room: Room, message_id: int) -> Message | None:
    """A message of this room by id, deleted or not."""
    return Message.objects.filter(room=room, pk=message_id).select_related("room").first()


def message_get_by_client_id(
    *, room: Room, author, client_id: str, include_deleted: bool = False
) -> Message | None:
    """The message `author` sent to `room` with this client_id; deleted ones only when asked."""
    # exclude(client_id="") repeats the partial unique index's condition, so
    # SQLite and PostgreSQL use that index instead of scanning the room.
    messages = Message.objects.filter(room=room, author=author, client_id=client_id).exclude(client_id="")
    if not include_deleted:
        messages = messages.filter(deleted_at__isnull=True)
    return messages.select_related("author", "room").first()


def _visible(room: Room) -> QuerySet[Message]:
    return Message.objects.filter(room=room, deleted_at__isnull=True).select_related("author", "room")


def _latest_visible(room: Room, before: int | None = None, limit: int = HISTORY_LENGTH) -> list[Message]:
    messages = _visible(room)
    if before is not None:
        messages = messages.filter(id__lt=before)
    return list(reversed(messages.order_by("-id")[:limit]))


def message_list_latest(*, room: Room, before: int | None = None, limit: int = HISTORY_LENGTH) -> list[Frame]:
    """The newest `limit` visible messages (older than `before`), oldest first."""
    return [message_frame(m) for m in _latest_visible(room, before, limit)]


def message_list_after(*, room: Room, after: int) -> tuple[list[Frame], bool]:
    """Visible messages after `after`, oldest first, and whether older ones were left out.

    At most RESUME_MAX and PAGE_TEXT_BUDGET of text, the newest: the bool is True when more were missed.
    """
    newest_first = list(_visible(room).filter(id__gt=after).order_by("-id")[: RESUME_MAX + 1])
    kept = _within_text_budget(newest_first[:RESUME_MAX])
    return [message_frame(m) for m in reversed(kept)], len(kept) < len(newest_first)


@dataclass(frozen=True)
class Stretch:
    """Consecutive visible messages of a room, oldest first, and whether the room holds more each side."""

    messages: list[Frame]
    has_older: bool
    has_newer: bool


def message_list_around(*, room: Room, message_id: int, limit: int = HISTORY_LENGTH) -> Stretch | None:
    """Message `message_id` amid its neighbours: half of `limit` before it, the rest after.

    Where a search result opens, however far back. None when it is not a
    visible message of this room (deleted since, or never here).
    """
    anchor = _visible(room).filter(pk=message_id).first()
    if anchor is None:
        return None
    wanted_older = (limit - 1) // 2
    older = list(_visible(room).filter(id__lt=message_id).order_by("-id")[: wanted_older + 1])
    # Near the room's start, the places older messages would take go to newer ones.
    wanted_newer = limit - 1 - min(len(older), wanted_older)
    newer, has_newer = _oldest_after(room, after=message_id, limit=wanted_newer)
    shown = [*reversed(older[:wanted_older]), anchor, *newer]
    return Stretch(
        messages=[message_frame(m) for m in shown], has_older=len(older) > wanted_older, has_newer=has_newer
    )


def message_list_following(
    *, room: Room, after: int, limit: int = HISTORY_LENGTH
) -> tuple[list[Frame], bool]:
    """The oldest `limit` visible messages after `after`, and whether newer ones follow them.

    Paging forward from a search result's stretch towards the latest.
    """
    newer, has_newer = _oldest_after(room, after=after, limit=limit)
    return [message_frame(m) for m in newer], has_newer


def _oldest_after(room: Room, *, after: int, limit: int) -> tuple[list[Message], bool]:
    """The oldest `limit` visible messages after message `after`, and whether more follow them."""
    newer = list(_visible(room).filter(id__gt=after).order_by("id")[: limit + 1])
    return newer[:limit], len(newer) > limit


def _within_text_budget(messages: list[Message]) -> list[Message]:
    """The leading messages whose texts fit PAGE_TEXT_BUDGET together (the first one always)."""
    total = 0
    for count, message in enumerate(messages):
        total += len(message.text)
        if total > PAGE_TEXT_BUDGET and count:
            return messages[:count]
    return messages


@dataclass(frozen=True)
class History:
    """Message frames, oldest first, encoded for the wire at most once.

    `key` identifies the messages as they read: (id, created_at, changed_seq)
    of each, so that an edit or a reaction (a new changed_seq) rebuilds it,
    and a row written later under an old id (a restored backup, an explicit
    id) is not taken for the message once cached.
    """

    frames: tuple[Frame, ...]
    key: tuple[tuple[int, datetime, int], ...] = ()

    @cached_property
    def encoded(self) -> str:
        return encode(list(self.frames))

    @cached_property
    def newest_seq(self) -> int:
        """The highest seq among the frames (0 for none); computed once, as the cached history is reused."""
        return max((frame["seq"] for frame in self.frames), default=0)

    def covered_seq(self, room: Room) -> int:
        """The seq these frames bring a client to: the room's as read, or a later event they hold.

        `room` was read before the frames, so they reflect every event up to
        the newest they hold too.
        """
        return max(room.seq, self.newest_seq)


# Room pk -> the welcome history last built for it: one entry per room
# anyone joined through this process, replaced when it changes.
_latest_history: dict[int, History] = {}


# (kind, room, epoch, seq as read, where the client stands) -> the page a resume
# gets: reused while the room is unchanged, so that a storm of reconnects (or a
# client reconnecting in a loop) builds and encodes each page once.
_resume_pages: OrderedDict[tuple, Recovery] = OrderedDict()
# A page is at most PAGE_TEXT_BUDGET of text (under 1 MiB encoded): 16 hold 16 MiB at worst.
RESUME_PAGES_KEPT = 16


def history_cache_clear() -> None:
    """Forget every cached welcome history and resume page (tests start each case from none)."""
    _latest_history.clear()
    _resume_pages.clear()


def _resume_page(key: tuple, build: Callable[[], Recovery]) -> Recovery:
    page = _resume_pages.get(key)
    if page is None:
        page = _resume_pages[key] = build()
        if len(_resume_pages) > RESUME_PAGES_KEPT:
            _resume_pages.popitem(last=False)
    else:
        # Another thread may have evicted it meanwhile: the page is still good.
        with contextlib.suppress(KeyError):
            _resume_pages.move_to_end(key)
    return page


def _resume_after(room: Room, after: int) -> Recovery:
    frames, has_more = message_list_after(room=room, after=after)
    return Recovery(recovered=False, events=History(frames=tuple(frames)), seq=room.seq, has_more=has_more)


def history_latest(*, room: Room) -> History:
    """The welcome's history: the newest HISTORY_LENGTH visible messages, oldest first.

    Everyone joining a room gets the same messages until someone posts or a
    moderator deletes one, so they are built (and encoded) once and reused
    while the newest visible messages are the same ones: checking that is
    one query on the (room, id) index for ids and times only. Author names
    are as of the build.
    """
    newest_first = _visible(room).order_by("-id").values_list("id", "created_at", "changed_seq")
    newest = tuple(reversed(newest_first[:HISTORY_LENGTH]))
    cached = _latest_history.get(room.pk)
    if cached is not None and cached.key == newest:
        return cached
    messages = _latest_visible(room)
    history = History(
        frames=tuple(message_frame(m) for m in messages),
        key=tuple((m.pk, m.created_at, m.changed_seq) for m in messages),
    )
    _latest_history[room.pk] = history
    return history


@dataclass(frozen=True)
class Recovery:
    """A resume by seq: every event after it (`recovered`), or else the latest history in `events`."""

    recovered: bool
    events: History
    # Where the replay (or the latest history) leaves the client.
    seq: int
    # Recovered, but only the first RECOVERY_PAGE events: ask again from `seq`.
    has_more: bool = False


def room_events_since(*, room: Room, since: int, epoch: str) -> Recovery:
    """Every room event after `since`, in seq order, when the log still covers it.

    It does when the epoch is the room's and the client is at most
    CHAT_RECOVERY_LIMIT events behind (and not ahead: a restored backup).
    Each message that changed after `since` replays once, in its latest state
    (rooms.realtime.protocol.outbound.message_latest_event). Read `room`
    before calling: events committed since then come along too, never fewer.
    At most RECOVERY_PAGE events and PAGE_TEXT_BUDGET of text: `has_more`
    then says the client stands at the last one's seq and asks again from there.
    """
    behind = room.seq - since
    if epoch != room.epoch or not 0 <= behind <= settings.CHAT_RECOVERY_LIMIT:
        latest = history_latest(room=room)
        return Recovery(recovered=False, events=latest, seq=latest.covered_seq(room))
    changed = list(
        Message.objects.filter(room=room, changed_seq__gt=since)
        .select_related("author", "room")
        .order_by("changed_seq")[: RECOVERY_PAGE + 1]
    )
    page = _within_text_budget(changed[:RECOVERY_PAGE])
    has_more = len(page) < len(changed)
    events = History(frames=tuple(message_latest_event(m) for m in page))
    seq = events.newest_seq if has_more else events.covered_seq(room)
    return Recovery(recovered=True, events=events, seq=seq, has_more=has_more)


def room_positions(*, slugs: list[str]) -> dict[str, tuple[int, str]]:
    """Where each room's event log stands: slug -> (seq, epoch)."""
    return {
        slug: (seq, epoch)
        for slug, seq, epoch in Room.objects.filter(slug__in=slugs).values_list("slug", "seq", "epoch")
    }


@dataclass(frozen=True)
class Resume:
    """Where a reconnecting client stands: a message id (`after`, older clients) or a seq and epoch."""

    after: int | None = None
    since: int | None = None
    epoch: str = ""


@dataclass(frozen=True)
class RoomEntry:
    """What a socket entering a room reads from the database, in one trip."""

    room: Room
    history: History
    has_more: bool
    muted_until: datetime | None
    # The room's name as this person sees it (a direct room is named after the other one).
    name: str
    # Where the welcome leaves the client in the room's event log.
    seq: int
    # A resume by seq: whether it was recovered, and then what to replay.
    recovered: bool | None = None
    events: History | None = None


def room_entry(*, slug: str, user_id: int, resume: Resume) -> RoomEntry | None:
    """The active room (its seq read first), the welcome's history or events, and any mute.

    None when the room is unknown or archived, or this person may not enter it.
    """
    room = room_get_open(slug=slug, user_id=user_id)
    if room is None:
        return None
    muted = mute_until(room=room, user_id=user_id)
    name = room_shown_name(room=room, user_id=user_id)
    if resume.since is not None:
        since, epoch = resume.since, resume.epoch
        recovery = _resume_page(
            ("since", room.pk, room.epoch, room.seq, since, epoch),
            lambda: room_events_since(room=room, since=since, epoch=epoch),
        )
        recovered = recovery.recovered
        return RoomEntry(
            room=room,
            history=History(frames=()) if recovered else recovery.events,
            has_more=recovery.has_more,
            muted_until=muted,
            name=name,
            seq=recovery.seq,
            recovered=recovered,
            events=recovery.events if recovered else None,
        )
    if resume.after is None:
        latest = history_latest(room=room)
        return RoomEntry(
            room=room,
            history=latest,
            has_more=False,
            muted_until=muted,
            name=name,
            seq=latest.covered_seq(room),
        )
    after = resume.after
    page = _resume_page(("after", room.pk, room.epoch, room.seq, after), lambda: _resume_after(room, after))
    return RoomEntry(
        room=room, history=page.events, has_more=page.has_more, muted_until=muted, name=name, seq=page.seq
    )
