"""Fixtures shared by the rooms tests."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
import pytest_asyncio
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from chatsite.asgi import application
from tests import factories
from tests.factories import user_create
from tests.rooms.sockets import SITE_HEADERS, TIMEOUT, join


@pytest.fixture
def room():
    """A fresh active room."""
    return factories.room_create()


@pytest.fixture
def author():
    """Someone who writes in it."""
    return factories.user_create(display_name="Alice")


@pytest_asyncio.fixture
async def connect():
    """Open sockets through chatsite.asgi.application; every one is disconnected afterwards."""
    opened: list[WebsocketCommunicator] = []

    async def _connect(path: str, headers=None) -> tuple[WebsocketCommunicator, bool, int | None]:
        communicator = WebsocketCommunicator(application, path, headers=headers or SITE_HEADERS)
        opened.append(communicator)
        connected, code = await communicator.connect(timeout=TIMEOUT)
        return communicator, connected, code

    yield _connect
    for communicator in opened:
        # A test that timed out waiting on a socket has cancelled its app: the
        # clean-up goes on, so the database is flushed for the next test.
        with contextlib.suppress(asyncio.CancelledError):
            await communicator.disconnect()


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
