"""/healthz: 200 when the database and the channel layer answer, 503 otherwise."""

from __future__ import annotations

import asyncio
import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

logger = logging.getLogger(__name__)

LAYER_TIMEOUT_SECONDS = 2.0


def database_ok() -> bool:
    """The database answers a trivial query."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        logger.exception("health: database check failed")
        return False


async def _layer_round_trip() -> bool:
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.send(channel, {"type": "health.ping"})
    received = await asyncio.wait_for(layer.receive(channel), LAYER_TIMEOUT_SECONDS)
    return received.get("type") == "health.ping"


def channel_layer_ok() -> bool:
    """A message sent through the channel layer comes back."""
    try:
        return async_to_sync(_layer_round_trip)()
    except Exception:
        logger.exception("health: channel layer check failed")
        return False


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Report whether this process can serve chat."""
    checks = {
        "database": "ok" if database_ok() else "failing",
        "channel_layer": "ok" if channel_layer_ok() else "failing",
    }
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse({"status": "ok" if healthy else "failing", **checks}, status=200 if healthy else 503)
