"""Fixtures shared by the tests that run real server processes."""

from __future__ import annotations

import pytest_asyncio

from tests.integration.room_client import RoomClient


@pytest_asyncio.fixture
async def clients():
    """Clients opened by a test; all closed at the end."""
    opened: list[RoomClient] = []

    async def _open(client: RoomClient) -> RoomClient:
        opened.append(client)
        await client.connect()
        return client

    yield _open
    for client in opened:
        await client.close()
