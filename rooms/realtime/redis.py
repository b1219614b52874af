"""Redis connections for presence and the rate limit, when REDIS_URL is set.

redis.asyncio clients belong to one event loop, so there is one per loop,
closed with it (as channels-redis does for its own). Sync views get one
thread-safe client for the process.
"""

from __future__ import annotations

import asyncio
import types

import redis
from django.conf import settings
from redis import asyncio as aioredis

# redis-py 8 gives up on a read after socket_timeout; blocking commands and
# quiet connections need more than its 5 s default.
CONNECTION_OPTIONS = {"socket_timeout": 30, "socket_connect_timeout": 5, "health_check_interval": 15}

_async_clients: dict[asyncio.AbstractEventLoop, aioredis.Redis] = {}
_sync_client: redis.Redis | None = None


def async_redis() -> aioredis.Redis:
    """The Redis client of the running event loop."""
    loop = asyncio.get_running_loop()
    client = _async_clients.get(loop)
    if client is None:
        # Blocking pool: a connect storm waits for a free connection instead
        # of failing with MaxConnectionsError past the pool's size.
        pool = aioredis.BlockingConnectionPool.from_url(
            settings.REDIS_URL, max_connections=200, timeout=10, **CONNECTION_OPTIONS
        )
        client = aioredis.Redis(connection_pool=pool)
        _async_clients[loop] = client
        _close_with(loop)
    return client


def sync_redis() -> redis.Redis:
    """The process's Redis client for sync code (views)."""
    global _sync_client
    if _sync_client is None:
        _sync_client = redis.Redis.from_url(settings.REDIS_URL, **CONNECTION_OPTIONS)
    return _sync_client


def _close_with(loop: asyncio.AbstractEventLoop) -> None:
    # Close the loop's client before the loop itself, or its connections are
    # closed from __del__ with no loop left to run on.
    original_close = loop.close

    def close(self, *args, **kwargs):
        client = _async_clients.pop(loop, None)
        if client is not None and not loop.is_running():
            loop.run_until_complete(client.aclose(close_connection_pool=True))
        self.close = original_close
        return original_close(*args, **kwargs)

    loop.close = types.MethodType(close, loop)  # type: ignore[method-assign]
