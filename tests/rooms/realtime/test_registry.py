"""rooms.realtime.registry: this process's room sockets, at most CHAT_MAX_SOCKETS_PER_USER per user."""

from __future__ import annotations

from dataclasses import dataclass

from rooms.realtime.presence.base import Member
from rooms.realtime.registry import SocketRegistry


@dataclass(eq=False)
class Socket:
    """A socket as the registry sees it (rooms.realtime.registry.LiveSocket)."""

    channel_name: str
    member: Member
    room_slug: str = "general"

    async def restart(self) -> None:
        """Never called here."""


ALICE, BOB = Member(id=1, name="Alice"), Member(id=2, name="Bob")


def test_a_user_at_the_cap_is_refused_and_others_are_not(settings):
    """The cap counts one user's sockets; another user still gets in."""
    settings.CHAT_MAX_SOCKETS_PER_USER = 2
    registry = SocketRegistry()
    alices = [Socket(f"a{n}", ALICE) for n in range(3)]

    assert [registry.admit(socket) for socket in alices] == [True, True, False]
    assert registry.admit(Socket("b0", BOB))
    assert set(registry.sockets()) == {
        alices[0],
        alices[1],
        *[s for s in registry.sockets() if s.member == BOB],
    }


def test_a_forgotten_socket_frees_its_place(settings):
    """Leaving gives the place back; forgetting twice, or a socket never admitted, changes nothing."""
    settings.CHAT_MAX_SOCKETS_PER_USER = 1
    registry = SocketRegistry()
    first, second = Socket("a0", ALICE), Socket("a1", ALICE)
    assert registry.admit(first)
    assert not registry.admit(second)

    assert registry.forget(first)
    assert not registry.forget(first)
    assert not registry.forget(Socket("never", ALICE))

    assert registry.admit(second)
    assert registry.sockets() == [second]
