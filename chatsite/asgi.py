"""ASGI entry point: HTTP to Django, WebSockets through origin and token checks."""

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatsite.settings")
# Set up Django before importing anything that touches models.
django_asgi_app = get_asgi_application()

from channels.layers import get_channel_layer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from chatsite.sqlite_checkpoints import take_over_checkpoints  # noqa: E402
from rooms.realtime.handshake.auth import JwtAuthMiddleware  # noqa: E402
from rooms.realtime.handshake.origin import SameOriginValidator  # noqa: E402
from rooms.realtime.process import transport  # noqa: E402
from rooms.realtime.routing import websocket_urlpatterns  # noqa: E402

# The server stores every message on one database thread: SQLite's checkpoints go to another.
take_over_checkpoints()

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": SameOriginValidator(JwtAuthMiddleware(URLRouter(websocket_urlpatterns))),
    }
)

# Built now rather than by the first socket, which would wait on them: with
# Redis that imports redis-py and channels-redis (0.4 s of a connect storm's
# first second, measured in the C scenario).
get_channel_layer()
transport()

# Everything loaded by now lives as long as the process: the cyclic collector
# need not walk it again at every full collection (the A scenario's p99 latency
# and CPU fell with this: docs/PERFORMANCE.md).
gc.freeze()
