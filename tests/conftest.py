from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings

from rooms import hub, presence, ratelimit


@pytest.fixture
def shared_state():
    """Empty shared state: with Redis configured, its test database is flushed."""
    if settings.REDIS_URL:
        from rooms.redis_client import sync_redis

        sync_redis().flushdb()


@pytest.fixture(autouse=True)
def fresh_process_state(monkeypatch, shared_state):
    """Each test starts like a fresh server process: nobody online, no rate counts, empty layer."""
    monkeypatch.setattr(presence, "_presence", None)
    monkeypatch.setattr(ratelimit, "_limiter", None)
    monkeypatch.setattr(hub, "_hub", hub.RoomHub())
    async_to_sync(get_channel_layer().flush)()
