"""channels-redis's Pub/Sub layer, with what is published in one pass of the event loop sent as one pipeline.

channels-redis publishes under one lock per Redis connection, so a process
sends one PUBLISH per round trip: under load its messages reach Redis, and
come back to every process, one per read, and each is written to each socket
on its own (measured: 1.00 frame per socket write in scenario B, against 5.3
on the in-memory layer). Here what is published goes out once the loop has
run what is ready (the messages one transaction stored are broadcast in one
pass), and what is published while a pipeline is out goes in the next one, in
order, when it returns: one round trip for many, and Redis hands them back
together, to be written to each socket together.

Sends of a room's logged events (messages, edits, deletions, reactions: each
with its seq) to its group that follow each other in a pipeline go as one
PUBLISH of a batch event: every process then reads and decodes one Pub/Sub
message for them, not one per event (redis-py spends on each message a retry
wrapper, a timed read and two metrics hooks), and queues their events one by
one, in order, for the room's hub. Only those: a room hub of an earlier
release logs a batch as an event of a type it does not know and drops it, and
its pages fetch what they missed by seq; presence news, typing, a room's
closing and an access change would not come back, and a consumer of an
earlier release, on a user's or the dashboards' group, would stop
(docs/SCALING.md, "Rolling deploys"). Each event is encoded by its own
sender, so one that cannot be is that sender's error alone.

Subscribing keeps channels-redis's lock; publishing needs none, since the
order of publishes is the order they were asked for.
"""

from __future__ import annotations

import asyncio
import logging
from itertools import groupby
from typing import Any

from channels_redis.pubsub import (
    RedisPubSubChannelLayer,
    RedisPubSubLoopLayer,
    RedisSingleShardConnection,
)
from channels_redis.utils import _wrap_close

from rooms.realtime.protocol.layer import is_logged_room_event, is_room_group
from rooms.realtime.round_trips import RoundTrips
from rooms.realtime.small_queues import SmallQueue

logger = logging.getLogger("rooms.redis_layer")

# The type of the event that carries, encoded, several events published together to one room's group.
BATCH = "lets_talk.batch"

# A bound on one pipeline, so that no process decodes an unbounded batch in one step.
MOST_PER_PIPELINE = 200

# (Redis channel, encoded event, whether it may go in a batch): one publish waiting for its pipeline.
_Publish = tuple[str, bytes, bool]


class _PipelinedShardConnection(RedisSingleShardConnection):
    """One Redis server's connections, publishing what waits as one pipeline per round trip."""

    def __init__(self, host: dict, channel_layer: Any) -> None:
        super().__init__(host, channel_layer)
        self._publishes: RoundTrips[_Publish, None] = RoundTrips(
            self._publish_together,
            failure=lambda reason: ConnectionError(f"publishing to Redis failed: {reason}"),
            most_per_trip=MOST_PER_PIPELINE,
        )

    async def publish_event(self, channel: str, event: dict, *, batchable: bool = False) -> None:
        """Publish with the next pipeline (in the order asked); return once Redis has it."""
        payload = self.channel_layer.channel_layer.serialize(event)
        self._ensure_redis()
        await self._publishes.ask((channel, payload, batchable))

    async def _publish_together(self, publishes: list[_Publish]) -> list[None]:
        self._ensure_redis()
        serialize = self.channel_layer.channel_layer.serialize
        pipeline = self._redis.pipeline(transaction=False)
        for (channel, batchable), run in groupby(publishes, key=_channel_and_batchable):
            payloads = [payload for _, payload, _ in run]
            if batchable and len(payloads) > 1:
                pipeline.publish(channel, serialize(batch_event(payloads)))
            else:
                for payload in payloads:
                    pipeline.publish(channel, payload)
        await pipeline.execute()
        return [None] * len(publishes)

    def _receive_message(self, message: dict | None) -> None:
        """Queue a Pub/Sub message's events (a batch's one by one) for the local channels it is for."""
        if message is None:
            return
        layer = self.channel_layer
        name = message["channel"]
        if isinstance(name, bytes):
            name = name.decode()
        receivers = [name] if name in layer.channels else layer.groups.get(name, ())
        queues = [layer.channels[channel] for channel in receivers if channel in layer.channels]
        if not queues:
            return
        try:
            events = self._events_of(message["data"])
        except Exception:  # channels-redis's receive task would stop reading for a second
            logger.exception("dropped a message on %s that does not decode", name)
            return
        for queue in queues:
            for event in events:
                queue.put_nowait(event)

    def _events_of(self, data: bytes) -> list[dict]:
        deserialize = self.channel_layer.channel_layer.deserialize
        event = deserialize(data)
        if not isinstance(event, dict):
            raise TypeError(f"an event is a dict, not {type(event).__name__}")
        if event.get("type") != BATCH:
            return [event]
        events = [deserialize(payload) for payload in event["payloads"]]
        if not all(isinstance(each, dict) for each in events):
            raise TypeError("a batch holds dicts only")
        return events

    async def flush(self) -> None:
        """Stop publishing and receiving, and close the connections."""
        await self._publishes.stop("the channel layer was flushed")
        await super().flush()


def _channel_and_batchable(publish: _Publish) -> tuple[str, bool]:
    return publish[0], publish[2]


def batch_event(payloads: list[bytes]) -> dict:
    """The one event that carries these encoded events, in order, to every receiver of their channel."""
    return {"type": BATCH, "payloads": payloads}


class _PipelinedLoopLayer(RedisPubSubLoopLayer):
    """The layer of one event loop, over pipelined shard connections."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        hosts = [shard.host for shard in self._shards]  # type: ignore[has-type]  # channels-redis is untyped
        self._shards = [_PipelinedShardConnection(host, self) for host in hosts]

    async def _subscribe_to_channel(self, channel: str) -> None:
        # A SmallQueue, not channels-redis's asyncio.Queue (3 KB a socket): what it holds
        # is already decoded (_receive_message).
        self.channels[channel] = SmallQueue()
        await self._get_shard(channel).subscribe(channel)

    async def send(self, channel: str, message: dict) -> None:
        """Send a message onto a channel, with the next pipeline."""
        await self._get_shard(channel).publish_event(channel, message)

    async def group_send(self, group: str, message: dict) -> None:
        """Send a message to every channel in the group, on every process, with the next pipeline."""
        group_channel = self._get_group_channel_name(group)
        shard = self._get_shard(group_channel)
        batchable = is_room_group(group) and is_logged_room_event(message)
        await shard.publish_event(group_channel, message, batchable=batchable)


class PipelinedRedisPubSubChannelLayer(RedisPubSubChannelLayer):
    """RedisPubSubChannelLayer (same CONFIG), publishing what waits as one pipeline per round trip."""

    # The hot calls, as methods: channels-redis reaches them through __getattr__ and a
    # partial per call.
    async def receive(self, channel: str) -> dict:
        """Receive the channel's next event (this event loop's layer)."""
        return await self._get_layer().receive(channel)

    async def group_send(self, group: str, message: dict) -> None:
        """Send `message` to every channel in `group`, on every process (this event loop's layer)."""
        await self._get_layer().group_send(group, message)

    def deserialize(self, message: bytes | dict) -> dict:
        """An event from its bytes; what a receive task queued was decoded already."""
        return message if isinstance(message, dict) else super().deserialize(message)

    def _get_layer(self) -> _PipelinedLoopLayer:
        loop = asyncio.get_running_loop()
        layer = self._layers.get(loop)
        if layer is None:
            layer = self._layers[loop] = _PipelinedLoopLayer(*self._args, **self._kwargs, channel_layer=self)
            _wrap_close(self, loop)
        return layer
