"""Fan-out cost of channels-redis's two layers, in one process, on a local Redis.

    .venv/bin/python bench/channel_layers.py [redis://127.0.0.1:6379/14]

One group of RECIPIENTS channels; MESSAGES group sends; the time (and this
process's CPU) until every channel received every message. The Redis
server's own CPU is not counted (the core layer makes it do more too).
"""

from __future__ import annotations

import asyncio
import sys
import time

from channels_redis.core import RedisChannelLayer
from channels_redis.pubsub import RedisPubSubChannelLayer

RECIPIENTS = 200
MESSAGES = 200
FRAME = {"type": "room.frame", "frame": '{"type":"message","id":1,"text":"' + "x" * 80 + '"}'}


async def fan_out(layer) -> str:
    channels = [await layer.new_channel() for _ in range(RECIPIENTS)]
    for channel in channels:
        await layer.group_add("room.bench", channel)

    async def drain(channel: str) -> None:
        for _ in range(MESSAGES):
            await layer.receive(channel)

    receivers = [asyncio.create_task(drain(channel)) for channel in channels]
    await asyncio.sleep(0.2)
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(MESSAGES):
        await layer.group_send("room.bench", FRAME)
    await asyncio.wait_for(asyncio.gather(*receivers), 120)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    await layer.flush()
    deliveries = RECIPIENTS * MESSAGES
    return (
        f"{type(layer).__name__:<24} {deliveries / wall:>10,.0f} deliveries/s"
        f"   {cpu * 1e6 / deliveries:5.1f} µs CPU per delivery"
    )


async def main(url: str) -> None:
    print(await fan_out(RedisPubSubChannelLayer(hosts=[url])))
    print(await fan_out(RedisChannelLayer(hosts=[url], capacity=MESSAGES * 2)))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "redis://127.0.0.1:6379/14"))
