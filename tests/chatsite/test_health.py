"""/healthz (chatsite.health): what a load balancer asks of each process."""

from __future__ import annotations

import pytest

from chatsite import health

pytestmark = pytest.mark.django_db


class BrokenChannelLayer:
    """A channel layer whose backend is down: every call raises."""

    extensions: list[str] = []

    def __init__(self, **config) -> None:
        pass

    async def new_channel(self, prefix: str = "specific.") -> str:
        raise ConnectionError("channel layer unreachable")

    async def send(self, channel: str, message: dict) -> None:
        raise ConnectionError("channel layer unreachable")

    async def receive(self, channel: str) -> dict:
        raise ConnectionError("channel layer unreachable")

    async def flush(self) -> None:
        """Nothing to flush (the test fixtures call this)."""


def test_healthz_is_200_when_database_and_layer_answer(client):
    """A healthy process says so, without needing a signed-in user."""
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "channel_layer": "ok"}


def test_healthz_is_503_when_the_channel_layer_fails(client, settings):
    """A process whose channel layer is down reports failing with 503."""
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": f"{__name__}.BrokenChannelLayer"}}

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "failing", "database": "ok", "channel_layer": "failing"}


def test_healthz_is_503_when_the_database_fails(client, monkeypatch):
    """A process that cannot reach its database reports failing with 503."""
    monkeypatch.setattr(health, "database_ok", lambda: False)

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "failing", "database": "failing", "channel_layer": "ok"}


def test_healthz_is_never_cached(client):
    """Load balancers always see the current state."""
    assert "no-cache" in client.get("/healthz")["Cache-Control"]
