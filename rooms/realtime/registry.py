"""This process's open room sockets, and the per-user cap on them (CHAT_MAX_SOCKETS_PER_USER)."""

from __future__ import annotations

import weakref
from collections import Counter
from typing import Protocol

from django.conf import settings

from rooms.realtime.presence.base import Member


class LiveSocket(Protocol):
    """What the registry and the upkeep tick need of a consumer."""

    room_slug: str
    member: Member
    channel_name: str

    async def restart(self) -> None:
        """Close with 4012 so the client reconnects and resumes."""


class SocketRegistry:
    """The sockets admitted into a room on this process, counted per user."""

    def __init__(self) -> None:
        # Weak: a consumer that died without disconnect() must not be kept alive here.
        self._sockets: weakref.WeakSet[LiveSocket] = weakref.WeakSet()
        self._per_user: Counter[int] = Counter()

    def admit(self, socket: LiveSocket) -> bool:
        """Track a socket joining a room, unless its user is at CHAT_MAX_SOCKETS_PER_USER here.

        Checked and counted in one step (no await between), so concurrent
        handshakes cannot overshoot the cap.
        """
        user_id = socket.member.id
        if self._per_user[user_id] >= settings.CHAT_MAX_SOCKETS_PER_USER:
            return False
        self._per_user[user_id] += 1
        self._sockets.add(socket)
        return True

    def forget(self, socket: LiveSocket) -> bool:
        """Stop tracking a socket that left; False when it was never admitted (or already forgotten)."""
        if socket not in self._sockets:
            return False
        self._sockets.discard(socket)
        user_id = socket.member.id
        self._per_user[user_id] -= 1
        if self._per_user[user_id] <= 0:
            del self._per_user[user_id]
        return True

    def sockets(self) -> list[LiveSocket]:
        """Every admitted socket, as of now."""
        return list(self._sockets)
