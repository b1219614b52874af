"""RoomConsumer: one WebSocket in one room.

It parses frames, authorizes and calls the rooms services; what a room does
lives in services, selectors, presence and the rate limiter.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime
from enum import Enum

from channels.db import database_sync_to_async
from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.models import User
from rooms.access import room_get_open
from rooms.exceptions import ChatError, InvalidFrame, Muted, RateLimited, RefreshRefused
from rooms.models import Message, Room
from rooms.realtime.awareness import ReadMarker, TypingThrottle
from rooms.realtime.changes import change_apply
from rooms.realtime.dispatch import DirectWebsocketConsumer
from rooms.realtime.handshake import tickets
from rooms.realtime.handshake.auth import ticket_standing
from rooms.realtime.handshake.query import query_param, whole_number
from rooms.realtime.hub import room_broadcast
from rooms.realtime.presence.base import Member
from rooms.realtime.process import transport
from rooms.realtime.protocol import outbound
from rooms.realtime.protocol.codes import CloseCode
from rooms.realtime.protocol.inbound import (
    ClientChange,
    ClientDelete,
    ClientMessage,
    ClientRead,
    ClientRefresh,
    ClientTyping,
    parse_client_frame,
)
from rooms.realtime.protocol.layer import socket_groups
from rooms.realtime.renewal import SessionDeadline
from rooms.realtime.wire import wire_for
from rooms.realtime.wire.frames import SharedFrame
from rooms.realtime.writer import SocketWriter
from rooms.selectors import Resume, message_get_by_client_id, room_entry
from rooms.services import MessageDraft, message_clean_text

logger = logging.getLogger("rooms.ws")

# Refused frames in a row before we stop listening to a client.
MAX_STRIKES = 10
# Seconds between two refresh frames of one socket: the page sends one a deadline.
REFRESH_INTERVAL = 5.0
REFRESH_TOO_SOON = "A refresh came too soon after the last one."


class SocketState(Enum):
    """Where a room socket is in its life; each state says what may be written to it."""

    # Checking the ticket: nothing is written.
    CONNECTING = "connecting"
    # Receiving the room, the welcome not yet out: room frames are held.
    ENTERING = "entering"
    # Welcome sent: room frames are written, client frames handled.
    LIVE = "live"
    # We closed it or the client left: everything is dropped.
    CLOSING = "closing"


# Every delivered frame checks the state twice: an Enum member lookup costs
# ~90 ns on Python 3.11, a module constant ~20.
ENTERING, LIVE = SocketState.ENTERING, SocketState.LIVE

# The moves a socket may make; anything else is a bug, and raises.
TRANSITIONS = {
    SocketState.CONNECTING: {SocketState.ENTERING, SocketState.CLOSING},
    SocketState.ENTERING: {SocketState.LIVE, SocketState.CLOSING},
    SocketState.LIVE: {SocketState.CLOSING},
    SocketState.CLOSING: set(),
}


# Epochs we mint are 32 hex digits; anything longer is no epoch of ours.
EPOCH_MAX_LENGTH = 64


def _gathers_nothing(frame: SharedFrame) -> bool:
    return False


def resume_from_scope(scope: dict) -> Resume:
    """Where a reconnecting client stands: `since` and `epoch`, or `after` (older clients).

    A value that is not a whole number counts as absent (a fresh connect).
    """
    after, since = query_param(scope, "after"), query_param(scope, "since")
    epoch = query_param(scope, "epoch") or ""
    return Resume(
        after=None if after is None else whole_number(after),
        since=None if since is None else whole_number(since),
        epoch=epoch if len(epoch) <= EPOCH_MAX_LENGTH else "",
    )


class RoomConsumer(DirectWebsocketConsumer):
    """A member's socket in a room: welcome, messages, presence."""

    state: SocketState = SocketState.CONNECTING
    room_slug: str
    user: User
    member: Member
    room: Room
    muted_until: datetime | None = None
    # Room frames that arrive while ENTERING, as (event, ASGI send message).
    held: deque[tuple[dict, dict]]
    # The presence version the welcome's roster showed: older news is dropped.
    roster_version: int = 0
    # Refused frames in a row (MAX_STRIKES closes the socket).
    strikes: int = 0
    # Everything this socket sends after the accept goes through it.
    writer: SocketWriter
    # What the person is doing (typing, reading): set once the room is read.
    reads: ReadMarker | None = None
    typist: TypingThrottle
    # The ticket the socket holds now (a refresh replaces it), and its session's deadline.
    ticket: tickets.RoomTicket
    deadline: SessionDeadline
    # time.monotonic() before which a refresh is refused (REFRESH_INTERVAL).
    refresh_allowed_at: float = 0.0
    # For the room hub (RoomSocket.gather): the writer's own once live, so that a message
    # costs each recipient one call; before (frames are held) and after, nothing.
    gather: Callable[[SharedFrame], bool] = staticmethod(_gathers_nothing)

    def move_to(self, state: SocketState) -> None:
        """Enter `state`; a move TRANSITIONS does not allow is a bug."""
        if state not in TRANSITIONS[self.state]:
            raise RuntimeError(f"room socket cannot go from {self.state.name} to {state.name}")
        self.state = state
        self.gather = self.writer.gather if state is LIVE else _gathers_nothing

    async def connect(self) -> None:
        """Check the ticket against the room, join, and send the welcome frame."""
        self.writer = SocketWriter(self.base_send, wire_for(self.base_send), on_too_slow=self.too_slow)
        self.room_slug = slug = self.scope["url_route"]["kwargs"]["slug"]
        user, ticket = self.scope.get("user"), self.scope.get("room_ticket")
        if (
            not isinstance(ticket, tickets.RoomTicket)
            or not isinstance(user, User)
            or not user.is_authenticated
        ):
            return await self.close()
        if ticket.room != slug:
            logger.info("websocket refused: token for %r used on %r (user %s)", ticket.room, slug, user.pk)
            return await self.close()
        # Parsed before joining anything, so a bad query string cannot fail half-way.
        resume = resume_from_scope(self.scope)
        self.user, self.ticket = user, ticket
        self.deadline = SessionDeadline(self.session_over)
        self.member = Member(id=user.pk, name=user.get_display_name())
        try:
            await self.enter(resume)
        except Exception:
            await self.fail("joining")

    async def enter(self, resume: Resume) -> None:
        """Start receiving the room, read it, join presence, accept, and send the welcome frame."""
        slug, process = self.room_slug, transport()
        # Receive the room's frames before reading history or announcing
        # ourselves: a message stored meanwhile then arrives twice at worst
        # (clients de-duplicate by id), never zero times, and whoever joins at
        # the same moment is announced to us (with Redis, a frame published
        # before this process subscribes to the room is lost). Frames wait in
        # self.held until the welcome frame is out: it is always the first.
        self.held = deque()
        self.move_to(SocketState.ENTERING)
        await process.hub.add(slug, self)
        # Hear of sign-outs and access changes before checking them: one that
        # commits while this socket enters is heard, or seen by the reads below.
        self.groups = socket_groups(user_id=self.user.pk, session=self.ticket.session)
        for group in self.groups:
            await self.channel_layer.group_add(group, self.channel_name)
        if not await self.ticket_still_holds():
            await self.forget()
            return await self.close()
        entry = await database_sync_to_async(room_entry)(slug=slug, user_id=self.user.pk, resume=resume)
        if entry is None:
            logger.info(
                "websocket refused: room %r unknown or archived, or not theirs (user %s)", slug, self.user.pk
            )
            await self.forget()
            return await self.close()
        # Admitted only now: upkeep renews (re-joins) the presence of the
        # sockets the registry holds, and a refused one must never be announced.
        if not process.registry.admit(self):
            logger.warning(
                "websocket refused: user %s already has %s sockets here",
                self.user.pk,
                settings.CHAT_MAX_SOCKETS_PER_USER,
            )
            await self.forget()
            return await self.close()
        process.position.ensure_running()
        process.activity.ensure_running()
        if process.ticker is not None:
            process.ticker.ensure_running()
        self.room, self.muted_until = entry.room, entry.muted_until
        self.reads = ReadMarker(user=self.user, room=self.room)
        self.typist = TypingThrottle(room=slug, user=self.member_frame(self.member))

        version = await process.presence.join(room=slug, member=self.member, connection=self.channel_name)
        if version is not None:
            # Announced as soon as presence counts the member, so a failure
            # below ends in the matching user_left. Not echoed to the newcomer:
            # it learns who is here from the welcome frame.
            joined = outbound.user_joined(self.member_frame(self.member))
            await room_broadcast(slug, joined, skip=self.channel_name, version=version)
            process.activity.touch(slug)
        self.deadline.set(self.ticket.until)
        if self.state is not SocketState.ENTERING:
            return  # closed meanwhile (the room archived, or upkeep restarting): disconnect() cleans up
        await self.accept()

        roster = await process.presence.roster(room=slug)
        welcome = outbound.encode_welcome(
            room={"slug": slug, "name": entry.name, "kind": self.room.kind},
            user=self.member_frame(self.member),
            users=roster.encoded,
            history=entry.history.encoded,
            has_more=entry.has_more,
            seq=entry.seq,
            epoch=entry.room.epoch,
            recovered=entry.recovered,
            events=None if entry.events is None else entry.events.encoded,
            renew_in=self.deadline.seconds_left(),
        )
        await self.writer.write({"type": "websocket.send", "text": welcome})
        self.roster_version = roster.version
        await self.go_live()

    async def go_live(self) -> None:
        """Write the room frames held since ENTERING, in order, then write new ones as they come.

        Still ENTERING while the held frames go out: frames the hub delivers
        meanwhile queue behind them instead of overtaking them.
        """
        while self.held and self.state is SocketState.ENTERING:
            await self.write_room_frame(*self.held.popleft())
        if self.state is SocketState.ENTERING:
            self.move_to(SocketState.LIVE)
            del self.held  # only ENTERING holds frames: 760 bytes a socket, for nothing after

    async def ticket_still_holds(self) -> bool:
        """The ticket's standing, read again now that this socket hears of its session's end."""
        user, why = await database_sync_to_async(ticket_standing)(self.ticket)
        if user is None:
            logger.info("websocket refused: ticket of user %s %s, while entering", self.ticket.user_id, why)
        return user is not None

    async def forget(self) -> bool:
        """Stop receiving the room and stop counting this socket; True if it was counted.

        Only a counted socket may have joined presence: leaving it is the caller's.
        """
        process = transport()
        # Uncounted first: an upkeep tick during the await below must not renew it.
        counted = process.registry.forget(self)
        await process.hub.remove(self.room_slug, self)
        return counted

    async def disconnect(self, code: int) -> None:
        """Leave presence; announce the member's departure if this was their last socket."""
        if self.state is not SocketState.CLOSING:
            self.move_to(SocketState.CLOSING)
        if hasattr(self, "deadline"):
            self.deadline.cancel()  # else its timer would hold this consumer until the deadline
        try:
            if not await self.forget():
                return  # never counted: refused, or failed before it joined presence
            slug, member = self.room_slug, self.member
            version = await transport().presence.leave(room=slug, member=member, connection=self.channel_name)
            if version is not None:
                await room_broadcast(slug, outbound.user_left(self.member_frame(member)), version=version)
                transport().activity.touch(slug)
        except Exception:
            # Shared presence unreachable: the expiry of this connection in it
            # (PRESENCE_TTL) and another process's reaping announce the leave.
            logger.exception("leaving presence failed in %r (user %s)", self.room_slug, self.user.pk)
        finally:
            # After the leave: a slow database must not hold up everyone's user_left.
            if self.reads is not None:
                await self.reads.flush()

    async def close(self, code: int | bool | None = None, reason: str | None = None) -> None:
        """Close the socket once; what the client sent after that is dropped unread.

        Frames already received when we close (the rest of a flood) would
        otherwise be answered on a closed socket: the ASGI server raises, and
        the consumer would die without disconnect(), leaving a ghost online.
        """
        if self.state is SocketState.CLOSING:
            return
        self.move_to(SocketState.CLOSING)
        if hasattr(self, "deadline"):
            self.deadline.cancel()
        # A plain int: daphne (autobahn) refuses a close code whose type is not exactly int.
        await self.writer.close(None if code is None or isinstance(code, bool) else int(code), reason)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """Handle one client frame; refused frames get an `error` frame."""
        if self.state is not SocketState.LIVE:
            return
        if text_data is None:
            return await self.refuse(InvalidFrame("Frames must be JSON text, not binary."))
        # surrogatepass: measuring must not fail on text the parser refuses next.
        if len(text_data.encode("utf-8", "surrogatepass")) > settings.CHAT_MAX_FRAME_BYTES:
            logger.info(
                "websocket closed: frame over %s bytes (user %s)", settings.CHAT_MAX_FRAME_BYTES, self.user.pk
            )
            return await self.close(code=CloseCode.TOO_BIG)
        client_id, message_id = "", None
        try:
            incoming = parse_client_frame(text_data)
            if isinstance(incoming, ClientMessage):
                client_id = incoming.client_id
                await self.receive_message(incoming)
            elif isinstance(incoming, ClientTyping):
                if not self.is_muted():
                    await self.typist.typing()
                return  # free to send: it must not clear the strikes of refused frames
            elif isinstance(incoming, ClientRead):
                if self.reads is not None:
                    self.reads.saw(incoming.seq)
                return
            elif isinstance(incoming, ClientRefresh):
                await self.receive_refresh(incoming)
                return  # must not clear the strikes of refused frames either
            else:
                message_id = incoming.id
                await self.receive_change(incoming)
        except ChatError as error:
            return await self.refuse(error, client_id=client_id, message_id=message_id)
        except Exception:
            return await self.fail("handling a frame")
        self.strikes = 0

    async def receive_message(self, incoming: ClientMessage) -> None:
        """Store and broadcast a new message, unless muted or too fast (a retry is echoed, not refused)."""
        text = message_clean_text(incoming.text)
        self.check_not_muted()
        wait = await transport().rate_limiter.admit(key=f"{self.room_slug}:{self.user.pk}")
        if not wait:
            await self.post(text=text, client_id=incoming.client_id)
        elif not await self.echo_stored(client_id=incoming.client_id):
            raise RateLimited(retry_after=wait)

    async def receive_change(self, change: ClientChange) -> None:
        """Edit, delete or react to a message; the room hears of it from the service, on commit.

        Rate-limited apart from messages (a burst of reactions does not stop
        anyone talking); a muted person may still take a message back.
        """
        if not isinstance(change, ClientDelete):
            self.check_not_muted()
        wait = await transport().rate_limiter.admit(key=f"{self.room_slug}:{self.user.pk}:changes")
        if wait:
            raise RateLimited(retry_after=wait)
        answer = await database_sync_to_async(change_apply)(change, room=self.room, user=self.user)
        if answer is not None:
            await self.send_frame(answer)

    async def receive_refresh(self, refresh: ClientRefresh) -> None:
        """Move the session deadline with a fresh ticket of the same person, session and room.

        One every REFRESH_INTERVAL at most. A ticket that would not move the
        deadline is answered as it stands, without reading anything; one that
        would is checked as at the handshake, and access to the room again.
        """
        now = time.monotonic()
        if now < self.refresh_allowed_at:
            raise RefreshRefused(REFRESH_TOO_SOON)
        self.refresh_allowed_at = now + REFRESH_INTERVAL
        try:
            ticket = tickets.decode(refresh.token)
        except tickets.TokenError as exc:
            raise RefreshRefused() from exc
        if (ticket.user_id, ticket.session, ticket.room) != (
            self.user.pk,
            self.ticket.session,
            self.room_slug,
        ):
            raise RefreshRefused()
        current = self.deadline.until
        if current is not None and (ticket.until is None or ticket.until <= current):
            return await self.send_frame(outbound.refreshed(renew_in=self.deadline.seconds_left()))
        user, _why = await database_sync_to_async(ticket_standing)(ticket)
        if user is None:
            raise RefreshRefused()
        room = await database_sync_to_async(room_get_open)(slug=self.room_slug, user_id=self.user.pk)
        if room is None:
            return await self.lose_access()
        self.ticket = ticket
        self.deadline.set(ticket.until)
        await self.send_frame(outbound.refreshed(renew_in=self.deadline.seconds_left()))

    async def session_over(self) -> None:
        """The session deadline passed with no fresh ticket: close with 4401 (the page fetches one)."""
        logger.info("websocket closed: not renewed by its session's deadline (user %s)", self.user.pk)
        await self.close(code=CloseCode.SIGNED_OUT)

    def is_muted(self) -> bool:
        """Whether a moderator's mute of this user in this room is running."""
        return self.muted_until is not None and timezone.now() < self.muted_until

    def check_not_muted(self) -> None:
        """Raise Muted while a moderator's mute of this user in this room runs."""
        if self.muted_until is not None and self.is_muted():
            raise Muted(f"A moderator muted you in this room until {self.muted_until:%H:%M} UTC.")

    async def post(self, *, text: str, client_id: str) -> None:
        """Store the message, then broadcast it; a retried client_id is answered to its sender only."""
        draft = MessageDraft(room=self.room, author=self.user, text=text, client_id=client_id)
        message, created = await transport().messages.store(draft)
        if created:
            await room_broadcast(self.room_slug, outbound.message_frame(message))
            transport().activity.touch(self.room_slug)
        else:
            await self.answer_retry(message)

    async def echo_stored(self, *, client_id: str) -> bool:
        """Answer a rate-limited frame that retries a stored message; False when it retries nothing.

        Looked up only once the limiter refuses, so the hot path stays one write:
        a client resending after a reconnect gets its message back, not rate_limited.
        """
        if not client_id:
            return False
        message = await database_sync_to_async(message_get_by_client_id)(
            room=self.room, author=self.user, client_id=client_id
        )
        if message is None:
            return False
        await self.answer_retry(message)
        return True

    async def answer_retry(self, message: Message) -> None:
        """Echo a retried message to its sender, or only its deletion if a moderator removed it."""
        if message.deleted_at is not None:
            deleted = outbound.message_deleted(
                message.pk, seq=message.changed_seq, client_id=message.client_id
            )
            await self.send_frame(deleted)
        else:
            await self.send_frame(outbound.message_frame(message))

    async def refuse(self, error: ChatError, client_id: str = "", message_id: int | None = None) -> None:
        """Answer a bad frame with an `error` frame naming the refused message; close one that keeps at it."""
        retry_after = error.retry_after if isinstance(error, RateLimited) else None
        refusal = outbound.error(
            code=error.code,
            detail=error.detail,
            client_id=client_id,
            retry_after=retry_after,
            message_id=message_id,
        )
        await self.send_frame(refusal)
        if not error.strike:
            return
        self.strikes += 1
        if self.strikes >= MAX_STRIKES:
            logger.warning(
                "websocket closed: %s refused frames in a row (user %s)", self.strikes, self.user.pk
            )
            await self.close(code=CloseCode.POLICY_VIOLATION)

    async def fail(self, during: str) -> None:
        """Log an unexpected error and close with 4011, so that disconnect() leaves presence.

        An exception escaping the consumer would kill it without disconnect():
        its user would stay "online" for good.
        """
        logger.exception("websocket failed while %s in %r (user %s)", during, self.room_slug, self.user.pk)
        await self.close(code=CloseCode.INTERNAL_ERROR)

    async def send_frame(self, frame: outbound.Frame) -> None:
        """Send a frame to this socket only (nothing unless it is live)."""
        if self.state is SocketState.LIVE:
            await self.writer.write({"type": "websocket.send", "text": outbound.encode(frame)})

    @staticmethod
    def member_frame(member: Member) -> outbound.Frame:
        """A present member as frames show them."""
        return outbound.member(user_id=member.id, name=member.name)

    # From the room hub (rooms.realtime.hub.RoomSocket): the room's frames, already encoded.

    async def deliver(self, event: dict, send: dict) -> None:
        """Write a room frame (`send`: its ASGI message) to this socket, held until the welcome is out."""
        if self.state is LIVE:
            # A message (no presence version) is written from here: one coroutine less per delivery.
            if "version" not in event:
                await self.writer.write(send)
            else:
                await self.write_room_frame(event, send)
        elif self.state is ENTERING:
            self.held.append((event, send))
            if len(self.held) > settings.CHAT_SEND_QUEUE_FRAMES:
                await self.too_slow()

    async def write_room_frame(self, event: dict, send: dict) -> None:
        """Write a room frame now, unless it is presence news the welcome's roster already gave.

        Joins racing with ours reach us both in the roster and as user_joined
        (at least once, never zero times); the client gets each change once.
        """
        version = event.get("version")
        if version is None:
            await self.writer.write(send)
        elif version > self.roster_version:
            batch = event.get("batch")  # several changes at once: told from after this socket's roster
            told = send if batch is None else batch.since(self.roster_version)
            if told is not None:
                await self.writer.write(told, ephemeral=True)

    async def deliver_ephemeral(self, event: dict, send: dict) -> None:
        """Write a frame worth nothing late (typing), not the user's own; dropped while the wire is full."""
        if self.state is LIVE and event.get("typist") != self.user.pk:
            await self.writer.write(send, disposable=True)

    async def close_room(self, send: dict) -> None:
        """The room was archived: tell the client (`send` is room_closed), then close with 4404."""
        if self.state is SocketState.LIVE:
            await self.writer.write(send)
        await self.close(code=CloseCode.ROOM_CLOSED)

    async def too_slow(self) -> None:
        """The client reads too slowly to keep up: close with 4013, so it resumes from the event log."""
        logger.info("websocket closed: too slow to read its room (user %s)", self.user.pk)
        await self.close(code=CloseCode.TOO_SLOW)

    @property
    def user_id(self) -> int:
        """Whose socket this is (the hub re-checks a room's people at once)."""
        return self.user.pk

    async def access_check(self) -> None:
        """The rooms this person may enter changed: close with 4403 unless they still may enter this one."""
        if self.state is SocketState.CLOSING:
            return
        try:
            # By slug: a socket still entering has no room yet, and the entry may have read the old access.
            room = await database_sync_to_async(room_get_open)(slug=self.room_slug, user_id=self.user.pk)
        except Exception:
            return await self.fail("checking access")
        if room is None:
            await self.lose_access()

    async def lose_access(self) -> None:
        """This person may no longer enter the room: close with 4403 (the page does not reconnect)."""
        logger.info("websocket closed: user %s may no longer enter %r", self.user.pk, self.room_slug)
        await self.close(code=CloseCode.ACCESS_LOST)

    # From upkeep (rooms.realtime.registry.LiveSocket).

    async def restart(self) -> None:
        """Shared state was lost (Redis restarted): close with 4012 so the client resumes."""
        await self.close(code=CloseCode.SERVICE_RESTART)

    # Channel-layer events on this user's group (rooms.realtime.protocol.layer.UserEvent):
    # "user.muted" -> user_muted.

    async def user_muted(self, event: dict) -> None:
        """A moderator muted (or unmuted, until None) this user in some room."""
        if event["room"] == self.room_slug:
            self.muted_until = parse_datetime(event["until"]) if event["until"] else None

    async def user_read(self, event: dict) -> None:
        """This user read this room up to a seq (maybe in another tab): the page's counts follow."""
        if event["room"] == self.room_slug:
            await self.send_frame(outbound.read(seq=int(event["seq"])))

    async def user_access_changed(self, event: dict) -> None:
        """The rooms this user may enter changed (a membership, their groups)."""
        await self.access_check()

    async def user_signed_out(self, event: dict) -> None:
        """The user signed out or was deactivated: close with 4401."""
        await self.close(code=CloseCode.SIGNED_OUT)
