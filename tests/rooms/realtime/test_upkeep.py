"""rooms.realtime.upkeep: this process's sockets, restarted together when Redis lost what it held."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from rooms.realtime.presence.base import Member
from rooms.realtime.presence.redis import RedisPresence
from rooms.realtime.registry import SocketRegistry
from rooms.realtime.upkeep import UpkeepTicker

pytestmark = pytest.mark.asyncio


@dataclass(eq=False)
class Socket:
    """A socket as upkeep sees it (rooms.realtime.registry.LiveSocket); `gone` ones fail to restart."""

    channel_name: str
    member: Member
    room_slug: str = "general"
    gone: bool = False
    restarted: bool = False

    async def restart(self) -> None:
        if self.gone:
            raise RuntimeError("Unexpected ASGI message 'websocket.close', after sending 'websocket.close'")
        self.restarted = True


async def test_a_socket_that_cannot_restart_does_not_stop_the_others():
    """A socket already closing (the server refuses a second close) is skipped; the rest restart."""
    registry = SocketRegistry()
    upkeep = UpkeepTicker(registry=registry, presence=RedisPresence())
    # Every other one is gone; however the set orders them, some good ones follow a gone one.
    sockets = [Socket(f"s{n}", Member(id=n, name=f"User {n}"), gone=n % 2 == 1) for n in range(10)]
    for socket in sockets:
        assert registry.admit(socket)

    await upkeep.restart_sockets()

    assert [socket.restarted for socket in sockets] == [not socket.gone for socket in sockets]
