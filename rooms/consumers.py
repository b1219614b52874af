"""RoomConsumer: one WebSocket in one room.

It parses frames, authorizes and calls the rooms services; what a room does
lives in services, selectors, presence and the rate limiter.
"""

from __future__ import annotations

import logging
from collections import deque

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from rooms import events
from rooms.exceptions import ChatError, InvalidFrame, Muted, RateLimited
from rooms.frames import parse_client_frame
from rooms.groups import user_group
from rooms.hub import broadcast, get_hub
from rooms.models import Message
from rooms.params import query_param, whole_number
from rooms.presence import Member, get_presence
from rooms.ratelimit import get_rate_limiter
from rooms.selectors import message_frame, message_get_by_client_id, room_entry
from rooms.services import message_clean_text, message_create
from rooms.upkeep import upkeep

logger = logging.getLogger("rooms.ws")

# daphne lets an application close only with 1000 or 3000-4999, so ours mirror
# the standard codes: 4008 ~ 1008 policy violation, 4009 ~ 1009 too big,
# 4011 ~ 1011 internal error, 4012 ~ 1012 service restart.
CLOSE_POLICY_VIOLATION = 4008
CLOSE_TOO_BIG = 4009
CLOSE_INTERNAL_ERROR = 4011
CLOSE_SERVICE_RESTART = 4012
CLOSE_SIGNED_OUT = 4401
CLOSE_ROOM_CLOSED = 4404
# Refused frames in a row before we stop listening to a client.
MAX_STRIKES = 10


def after_from_scope(scope: dict) -> int | None:
    """The `after` message id of a resuming client; None when absent or not a whole number."""
    value = query_param(scope, "after")
    return None if value is None else whole_number(value)


class RoomConsumer(AsyncWebsocketConsumer):
    """A member's socket in a room: welcome, messages, presence."""

    member: Member | None = None
    muted_until = None
    strikes = 0
    closing = False

    async def dispatch(self, message: dict) -> None:
        """Run the handler for an event, without Channels' per-event DB clean-up.

        Channels closes stale database connections (a hop to the sync thread)
        before *every* event, so every delivered frame waited on that thread.
        Here every database call goes through database_sync_to_async, which
        does that clean-up itself.
        """
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def connect(self) -> None:
        """Check the ticket against the room, join, and send the welcome frame."""
        slug = self.scope["url_route"]["kwargs"]["slug"]
        user, ticket = self.scope.get("user"), self.scope.get("room_ticket")
        if ticket is None or user is None or not user.is_authenticated:
            return await self.close()
        if ticket.room != slug:
            logger.info("websocket refused: token for %r used on %r (user %s)", ticket.room, slug, user.pk)
            return await self.close()
        # Parsed before joining anything, so a bad query string cannot fail half-way.
        after = after_from_scope(self.scope)
        self.room_slug = slug
        self.user = user
        self.member = Member(id=user.pk, name=user.get_display_name())
        try:
            await self.enter(after)
        except Exception:
            await self.fail("joining")

    async def enter(self, after: int | None) -> None:
        """Start receiving the room, read it, join presence, accept, and send the welcome frame."""
        slug = self.room_slug
        # Receive the room's frames before reading history or announcing
        # ourselves: a message stored meanwhile then arrives twice at worst
        # (clients de-duplicate by id), never zero times, and whoever joins at
        # the same moment is announced to us (with Redis, a frame published
        # before this process subscribes to the room is lost). Frames wait in
        # self.held until the welcome frame is out: it is always the first.
        self.held = deque()
        await get_hub().add(slug, self)
        entry = await database_sync_to_async(room_entry)(slug=slug, user_id=self.user.pk, after=after)
        if entry is None:
            logger.info("websocket refused: room %r unknown or archived (user %s)", slug, self.user.pk)
            await self.forget()
            return await self.close()
        # Admitted only now: upkeep renews (re-joins) the presence of the
        # sockets it tracks, and a refused one must never be announced.
        if not upkeep.admit(self):
            logger.warning(
                "websocket refused: user %s already has %s sockets here",
                self.user.pk,
                settings.CHAT_MAX_SOCKETS_PER_USER,
            )
            await self.forget()
            return await self.close()
        self.room, self.muted_until = entry.room, entry.muted_until

        presence = get_presence()
        version = await presence.join(room=slug, member=self.member, connection=self.channel_name)
        if version is not None:
            # Announced as soon as presence counts the member, so a failure
            # below ends in the matching user_left. Not echoed to the newcomer:
            # it learns who is here from the welcome frame.
            joined = events.user_joined(self.member_frame(self.member))
            await broadcast(slug, joined, skip=self.channel_name, version=version)
        self.groups = [user_group(self.user.pk)]
        await self.channel_layer.group_add(self.groups[0], self.channel_name)
        await self.accept()

        roster = await presence.roster(room=slug)
        await self.send(
            text_data=events.encode_welcome(
                room={"slug": slug, "name": self.room.name},
                user=self.member_frame(self.member),
                users=roster.encoded,
                history=entry.history.encoded,
                has_more=entry.has_more,
            )
        )
        self.roster_version = roster.version
        while self.held:
            await self.write(*self.held.popleft())
        self.held = None

    async def forget(self) -> None:
        """Stop receiving the room and stop counting this socket (leaving presence is the caller's)."""
        upkeep.forget(self)
        await get_hub().remove(self.room_slug, self)
        self.member = None

    async def disconnect(self, code: int) -> None:
        """Leave presence; announce the member's departure if this was their last socket."""
        if self.member is None:
            return
        slug, member = self.room_slug, self.member
        try:
            await self.forget()
            version = await get_presence().leave(room=slug, member=member, connection=self.channel_name)
            if version is not None:
                await broadcast(slug, events.user_left(self.member_frame(member)), version=version)
        except Exception:
            # Shared presence unreachable: the expiry of this connection in it
            # (PRESENCE_TTL) and another process's reaping announce the leave.
            logger.exception("leaving presence failed in %r (user %s)", slug, self.user.pk)

    async def close(self, code: int | bool | None = None, reason: str | None = None) -> None:
        """Close the socket once; what the client sent after that is dropped unread.

        Frames already received when we close (the rest of a flood) would
        otherwise be answered on a closed socket: the ASGI server raises, and
        the consumer would die without disconnect(), leaving a ghost online.
        """
        if self.closing:
            return
        self.closing = True
        await super().close(code=code, reason=reason)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """Handle one client frame; refused frames get an `error` frame."""
        if self.closing:
            return
        if text_data is None:
            return await self.refuse(InvalidFrame("Frames must be JSON text, not binary."))
        # surrogatepass: measuring must not fail on text the parser refuses next.
        if len(text_data.encode("utf-8", "surrogatepass")) > settings.CHAT_MAX_FRAME_BYTES:
            logger.info(
                "websocket closed: frame over %s bytes (user %s)", settings.CHAT_MAX_FRAME_BYTES, self.user.pk
            )
            return await self.close(code=CLOSE_TOO_BIG)
        try:
            outgoing = parse_client_frame(text_data)
            text = message_clean_text(outgoing.text)
            if self.muted_until is not None and timezone.now() < self.muted_until:
                raise Muted(f"A moderator muted you in this room until {self.muted_until:%H:%M} UTC.")
            if await get_rate_limiter().allow(key=f"{self.room_slug}:{self.user.pk}"):
                await self.post(text=text, client_id=outgoing.client_id)
            elif not await self.echo_stored(client_id=outgoing.client_id):
                raise RateLimited()
        except ChatError as error:
            return await self.refuse(error)
        except Exception:
            return await self.fail("handling a frame")
        self.strikes = 0

    async def post(self, *, text: str, client_id: str) -> None:
        """Store the message, then broadcast it; a retried client_id is answered to its sender only."""
        message, created = await database_sync_to_async(message_create)(
            room=self.room, author=self.user, text=text, client_id=client_id
        )
        if created:
            await broadcast(self.room_slug, message_frame(message))
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
            await self.send_frame(events.message_deleted(message.pk, client_id=message.client_id))
        else:
            await self.send_frame(message_frame(message))

    async def refuse(self, error: ChatError) -> None:
        """Answer a bad frame with an `error` frame; close a client that keeps at it."""
        await self.send_frame(events.error(code=error.code, detail=error.detail))
        if not error.strike:
            return
        self.strikes += 1
        if self.strikes >= MAX_STRIKES:
            logger.warning(
                "websocket closed: %s refused frames in a row (user %s)", self.strikes, self.user.pk
            )
            await self.close(code=CLOSE_POLICY_VIOLATION)

    async def fail(self, during: str) -> None:
        """Log an unexpected error and close with 4011, so that disconnect() leaves presence.

        An exception escaping the consumer would kill it without disconnect():
        its user would stay "online" for good.
        """
        logger.exception("websocket failed while %s in %r (user %s)", during, self.room_slug, self.user.pk)
        await self.close(code=CLOSE_INTERNAL_ERROR)

    async def send_frame(self, frame: events.Frame) -> None:
        """Send a frame to this socket only (nothing once it is closing)."""
        if not self.closing:
            await self.send(text_data=events.encode(frame))

    @staticmethod
    def member_frame(member: Member) -> events.Frame:
        return events.member(user_id=member.id, name=member.name)

    # From the room hub: the room's frames, already encoded.

    # Room frames that arrive before the welcome frame is out, as (event, send).
    held: deque[tuple[dict, dict]] | None = None
    roster_version = 0

    async def deliver(self, event: dict, send: dict) -> None:
        """Write a room frame (`send`: its ASGI message) to this socket, held until the welcome is out."""
        if self.held is not None:
            self.held.append((event, send))
        else:
            await self.write(event, send)

    async def write(self, event: dict, send: dict) -> None:
        """Write a room frame now, unless the socket is closing or the welcome already told it.

        Presence news the welcome's roster already covers is dropped: joins
        racing with ours reach us both in the roster and as user_joined (at
        least once, never zero times); the client gets each change once.
        """
        if self.closing:
            return
        version = event.get("version")
        if version is None or version > self.roster_version:
            await self.base_send(send)

    async def close_room(self, send: dict) -> None:
        """The room was archived: tell the client (`send` is room_closed), then close with 4404."""
        if self.held is None and not self.closing:
            await self.base_send(send)
        await self.close(code=CLOSE_ROOM_CLOSED)

    # Channel-layer events on this socket's own channel ("user.muted" -> user_muted).

    async def restart(self) -> None:
        """Shared state was lost (Redis restarted): close with 4012 so the client resumes."""
        await self.close(code=CLOSE_SERVICE_RESTART)

    async def user_muted(self, event: dict) -> None:
        """A moderator muted (or unmuted, until None) this user in some room."""
        if event["room"] == self.room_slug:
            self.muted_until = parse_datetime(event["until"]) if event["until"] else None

    async def user_signed_out(self, event: dict) -> None:
        """The user signed out or was deactivated: close with 4401."""
        await self.close(code=CLOSE_SIGNED_OUT)
