from __future__ import annotations

import asyncio
import contextlib

import pytest
import pytest_asyncio
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db.backends.base.creation import TEST_DATABASE_PREFIX

from chatsite.asgi import application
from rooms import selectors
from rooms.realtime import process
from tests.rooms.sockets import SITE_HEADERS, TIMEOUT


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


@pytest.fixture
def shared_state():
    """Empty shared state: with Redis configured, its test database is flushed."""
    if settings.REDIS_URL:
        from rooms.realtime.redis import sync_redis

        sync_redis().flushdb()


@pytest.fixture(autouse=True)
def fresh_process_state(shared_state):
    """Each test starts like a fresh server process: nobody online, no rate counts, empty layer."""
    process.reset()
    selectors.history_cache_clear()
    async_to_sync(get_channel_layer().flush)()
    yield
    process.reset()


@pytest.fixture(scope="session", autouse=True)
def no_database_session_left_at_the_end(django_db_setup, django_db_blocker):
    """Before the test database is dropped, end any session still attached to it.

    A connection opened by a worker thread of an async test (the sync-to-async
    executor) can outlive its test; PostgreSQL then refuses DROP DATABASE.
    """
    yield
    from django.db import connection, connections

    with django_db_blocker.unblock():
        connections.close_all()
        # pytest-django sets up only the databases collected tests use: none, when none do.
        test_database = connection.settings_dict["NAME"].startswith(TEST_DATABASE_PREFIX)
        if connection.vendor == "postgresql" and test_database:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            connection.close()
