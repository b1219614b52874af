"""WebSocket URLs: one room socket per path; anything else is refused."""

from channels.security.websocket import WebsocketDenier
from django.urls import path, re_path

from rooms.realtime.consumer import RoomConsumer
from rooms.realtime.dashboard import DashboardConsumer

websocket_urlpatterns = [
    path("ws/rooms/<slug:slug>/", RoomConsumer.as_asgi()),
    path("ws/dashboard/", DashboardConsumer.as_asgi()),
    # Anything else is refused with 403 rather than an exception in the router.
    re_path(r"", WebsocketDenier.as_asgi()),
]
