"""ASGI entry point: HTTP to Django, WebSockets through origin and token checks."""

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatsite.settings")
# Set up Django before importing anything that touches models.
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from rooms.realtime.handshake.auth import JwtAuthMiddleware  # noqa: E402
from rooms.realtime.handshake.origin import SameOriginValidator  # noqa: E402
from rooms.realtime.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": SameOriginValidator(JwtAuthMiddleware(URLRouter(websocket_urlpatterns))),
    }
)

# Everything loaded by now lives as long as the process: the cyclic collector
# need not walk it again at every full collection (the A scenario's p99 latency
# and CPU fell with this: docs/PERFORMANCE.md).
gc.freeze()
