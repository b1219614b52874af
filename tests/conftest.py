from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from rooms import presence, ratelimit


@pytest.fixture(autouse=True)
def fresh_process_state(monkeypatch):
    """Each test starts like a fresh server process: nobody online, no rate counts, empty layer."""
    monkeypatch.setattr(presence, "_presence", presence.InMemoryPresence())
    monkeypatch.setattr(ratelimit, "_limiter", ratelimit.InMemoryRateLimiter())
    async_to_sync(get_channel_layer().flush)()
