"""DashboardConsumer: one person's live dashboard, counts pushed instead of polled.

Its own ticket (the room claim tickets.DASHBOARD_ROOM, which no slug can be)
through the same handshake as rooms. The welcome lists every room this
person may enter with their unread and mention counts, the online count and
the last activity; after it, `rooms` frames carry the rooms that changed:
named by the activity ticks of every process (rooms.realtime.activity), or
read in another tab; a `relist` lists them all again when access changed.
"""

from __future__ import annotations

import logging
from collections import Counter

from channels.db import database_sync_to_async
from django.conf import settings

from accounts.models import User
from rooms.realtime.dispatch import DirectWebsocketConsumer
from rooms.realtime.handshake.auth import ticket_standing
from rooms.realtime.handshake.tickets import DASHBOARD_ROOM, RoomTicket
from rooms.realtime.process import transport
from rooms.realtime.protocol import outbound
from rooms.realtime.protocol.codes import CloseCode
from rooms.realtime.protocol.layer import DASHBOARD_GROUP, socket_groups
from rooms.realtime.renewal import SessionDeadline
from rooms.realtime.wire import wire_for
from rooms.realtime.writer import SocketWriter
from rooms.unread import dashboard_rooms

logger = logging.getLogger("rooms.ws")


def _online(slugs: list[str]) -> dict[str, int]:
    return transport().presence.counts(rooms=slugs)


# One user's dashboard sockets on this process (CHAT_MAX_SOCKETS_PER_USER, like room sockets).
_open_dashboards: Counter[int] = Counter()


class DashboardConsumer(DirectWebsocketConsumer):
    """A person's dashboard socket: the welcome, then the rooms that changed."""

    user: User
    writer: SocketWriter
    deadline: SessionDeadline
    live = False

    async def connect(self) -> None:
        """Check the dashboard ticket, join the dashboard and the user's group, send the welcome."""
        self.writer = SocketWriter(self.base_send, wire_for(self.base_send), on_too_slow=self.too_slow)
        user, ticket = self.scope.get("user"), self.scope.get("room_ticket")
        if not isinstance(ticket, RoomTicket) or not isinstance(user, User) or not user.is_authenticated:
            return await self.close()
        if ticket.room != DASHBOARD_ROOM:
            logger.info("dashboard socket refused: a ticket for room %r (user %s)", ticket.room, user.pk)
            return await self.close()
        if _open_dashboards[user.pk] >= settings.CHAT_MAX_SOCKETS_PER_USER:
            logger.warning(
                "dashboard socket refused: user %s has %s open here", user.pk, _open_dashboards[user.pk]
            )
            return await self.close()
        _open_dashboards[user.pk] += 1
        self.user = user
        self.groups = [DASHBOARD_GROUP, *socket_groups(user_id=user.pk, session=ticket.session)]
        for group in self.groups:
            await self.channel_layer.group_add(group, self.channel_name)
        # Read again now that a sign-out would be heard: one that committed meanwhile was not.
        if (await database_sync_to_async(ticket_standing)(ticket))[0] is None:
            logger.info("dashboard socket refused: the ticket of user %s no longer holds", user.pk)
            return await self.close()
        # No refresh frame here: past the deadline it closes (4401) and reconnects with a fresh ticket.
        self.deadline = SessionDeadline(self.session_over)
        self.deadline.set(ticket.until)
        transport().activity.ensure_running()
        await self.accept()
        rooms = await self.listed()
        if rooms is None:
            return
        self.live = True
        await self.send_frame(outbound.dashboard(kind="welcome", rooms=rooms))

    async def listed(self, slugs: list[str] | None = None) -> list[outbound.Frame] | None:
        """This person's rooms (of `slugs`) as the dashboard shows them; None once a failure closed it."""
        try:
            return await database_sync_to_async(dashboard_rooms)(user=self.user, online=_online, slugs=slugs)
        except Exception:
            # Escaping, it would end the consumer without disconnect(): its groups would stay.
            logger.exception("dashboard read failed (user %s)", self.user.pk)
            await self.close(code=CloseCode.INTERNAL_ERROR)
            return None

    async def disconnect(self, code: int) -> None:
        """Stop counting this socket and its deadline (Channels leaves the groups)."""
        if hasattr(self, "deadline"):
            self.deadline.cancel()
        if hasattr(self, "user"):
            _open_dashboards[self.user.pk] -= 1
            if _open_dashboards[self.user.pk] <= 0:
                del _open_dashboards[self.user.pk]

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """A dashboard listens only: whatever a client sends is dropped unread."""

    async def send_frame(self, frame: outbound.Frame) -> None:
        """Write a frame through the socket's writer (bounded, like a room socket's)."""
        if self.live:
            await self.writer.write({"type": "websocket.send", "text": outbound.encode(frame)})

    async def refresh(self, slugs: list[str]) -> None:
        """Send this person's counts for these rooms (those that still exist)."""
        if not self.live:
            return
        rooms = await self.listed(slugs)
        if rooms:
            await self.send_frame(outbound.dashboard(kind="rooms", rooms=rooms))

    async def session_over(self) -> None:
        """The session's deadline passed: close with 4401; the page's reconnect fetches a fresh ticket."""
        await self.close(code=CloseCode.SIGNED_OUT)

    async def close(self, code: int | bool | None = None, reason: str | None = None) -> None:
        """Close once, through the writer."""
        self.live = False
        if hasattr(self, "deadline"):
            self.deadline.cancel()
        if hasattr(self, "writer"):
            await self.writer.close(None if code is None or isinstance(code, bool) else int(code), reason)
        else:
            await super().close(code=code, reason=reason)

    async def too_slow(self) -> None:
        """A dashboard that reads nothing for long is cut off; it reconnects and gets a fresh welcome."""
        await self.close(code=CloseCode.TOO_SLOW)

    # Channel-layer events: the dashboard group ("dashboard.activity") and the user's group.

    async def dashboard_activity(self, event: dict) -> None:
        """Rooms whose counts may have changed, on some process."""
        await self.refresh(list(event.get("rooms", [])))

    async def user_read(self, event: dict) -> None:
        """This person read a room (in one of their tabs): its unread count follows."""
        await self.refresh([event["room"]])

    async def user_access_changed(self, event: dict) -> None:
        """The rooms this person may enter changed: list them all afresh."""
        await self.relist()

    async def dashboard_relist(self, event: dict) -> None:
        """Who may enter some room changed (the admin): list this person's rooms afresh."""
        await self.relist()

    async def relist(self) -> None:
        """Send every room this person may enter (`relist`), replacing what the page shows."""
        if not self.live:
            return
        rooms = await self.listed()
        if rooms is not None:
            await self.send_frame(outbound.dashboard(kind="relist", rooms=rooms))

    async def user_muted(self, event: dict) -> None:
        """A mute matters to room sockets only."""

    async def user_signed_out(self, event: dict) -> None:
        """Signed out or deactivated: close with 4401, as room sockets do."""
        await self.close(code=CloseCode.SIGNED_OUT)
