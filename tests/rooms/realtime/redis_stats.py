"""What the test Redis says it has done: how a test sees round trips without timing them."""

from __future__ import annotations

import redis.asyncio as aioredis
from django.conf import settings


async def reads_processed() -> int:
    """How many reads Redis has made from its clients' sockets, by its own count."""
    client = aioredis.Redis.from_url(settings.REDIS_URL)
    try:
        return (await client.info("stats"))["total_reads_processed"]
    finally:
        await client.aclose()
