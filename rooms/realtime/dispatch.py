"""The base of our consumers: events dispatched without Channels' per-event database clean-up."""

from __future__ import annotations

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncWebsocketConsumer


class DirectWebsocketConsumer(AsyncWebsocketConsumer):
    """An AsyncWebsocketConsumer whose events go straight to their handlers.

    Channels closes stale database connections (a hop to the sync thread)
    before *every* event, so every delivered frame waited on that thread.
    Our consumers make every database call through database_sync_to_async,
    which does that clean-up itself.
    """

    async def dispatch(self, message: dict) -> None:
        """Run the handler for an event."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)
