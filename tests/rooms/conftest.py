"""Fixtures shared by the rooms tests."""

from __future__ import annotations

import pytest
import pytest_asyncio
from channels.db import database_sync_to_async

from tests import factories
from tests.factories import user_create
from tests.rooms.sockets import TIMEOUT, join


@pytest.fixture
def room():
    """A fresh active room."""
    return factories.room_create()


@pytest.fixture
def author():
    """Someone who writes in it."""
    return factories.user_create(display_name="Alice")


@pytest_asyncio.fixture
async def alice():
    return await database_sync_to_async(user_create)(username="alice", display_name="Alice")


@pytest_asyncio.fixture
async def bob():
    return await database_sync_to_async(user_create)(username="bob", display_name="Bob")


@pytest_asyncio.fixture
async def observer(connect, bob):
    """Bob, sitting in General, to prove refused handshakes broadcast nothing."""
    communicator, _welcome = await join(connect, bob)
    return communicator


@pytest_asyncio.fixture
async def alice_and_bob(connect, alice, bob):
    """Alice's and Bob's sockets in General, past the news of Bob joining."""
    alice_socket, _ = await join(connect, alice)
    bob_socket, _ = await join(connect, bob)
    await alice_socket.receive_json_from(timeout=TIMEOUT)  # bob joined
    return alice_socket, bob_socket


@pytest_asyncio.fixture
async def moderator():
    """A staff member, who may delete anyone's message."""
    return await database_sync_to_async(user_create)(username="mod", display_name="Moderator", is_staff=True)
