"""Presence shared by every server process, in Redis.

Each connection is a member of a per-room sorted set scored by when it
expires. Its process renews it every PRESENCE_TTL / 3 seconds; a process
that dies stops renewing, and any survivor reaps the expired connections
and announces the people who left. Per-user counts make "first/last
connection of this user in this room" one atomic step.
"""

from __future__ import annotations

import time

from django.conf import settings

from rooms.presence import Member
from rooms.redis_client import async_redis, sync_redis

PREFIX = "lets-talk:presence:"
ROOMS_KEY = f"{PREFIX}rooms"

# KEYS: connections, counts, names, rooms. ARGV: user id, connection, expiry, name, room.
JOIN = """
redis.call('SADD', KEYS[4], ARGV[5])
redis.call('HSET', KEYS[3], ARGV[1], ARGV[4])
if redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1] .. '|' .. ARGV[2]) == 1 then
  if redis.call('HINCRBY', KEYS[2], ARGV[1], 1) == 1 then return 1 end
end
return 0
"""

# KEYS: connections, counts, names. ARGV: user id, connection.
LEAVE = """
if redis.call('ZREM', KEYS[1], ARGV[1] .. '|' .. ARGV[2]) == 1 then
  if redis.call('HINCRBY', KEYS[2], ARGV[1], -1) <= 0 then
    redis.call('HDEL', KEYS[2], ARGV[1])
    redis.call('HDEL', KEYS[3], ARGV[1])
    return 1
  end
end
return 0
"""

# KEYS: connections, counts, names. ARGV: now. Returns [user id, name, ...] of people gone.
REAP = """
local gone = {}
for _, member in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])) do
  redis.call('ZREM', KEYS[1], member)
  local user = string.match(member, '^([^|]+)|')
  if redis.call('HINCRBY', KEYS[2], user, -1) <= 0 then
    table.insert(gone, user)
    table.insert(gone, redis.call('HGET', KEYS[3], user) or '')
    redis.call('HDEL', KEYS[2], user)
    redis.call('HDEL', KEYS[3], user)
  end
end
return gone
"""

# KEYS: connections. ARGV: expiry, members... Returns the members that were gone.
RENEW = """
local missing = {}
for i = 2, #ARGV do
  if redis.call('ZSCORE', KEYS[1], ARGV[i]) then
    redis.call('ZADD', KEYS[1], ARGV[1], ARGV[i])
  else
    table.insert(missing, ARGV[i])
  end
end
return missing
"""


def _keys(room: str) -> list[str]:
    return [f"{PREFIX}{room}:connections", f"{PREFIX}{room}:counts", f"{PREFIX}{room}:names"]


def _expiry() -> float:
    return time.time() + settings.PRESENCE_TTL


class RedisPresence:
    """Presence for many processes sharing one Redis."""

    async def join(self, *, room: str, member: Member, connection: str) -> bool:
        """Record a connection; True when it is the member's first in the room."""
        args = [member.id, connection, _expiry(), member.name, room]
        return bool(await async_redis().eval(JOIN, 4, *_keys(room), ROOMS_KEY, *args))

    async def leave(self, *, room: str, member: Member, connection: str) -> bool:
        """Forget a connection; True when it was the member's last in the room."""
        return bool(await async_redis().eval(LEAVE, 3, *_keys(room), member.id, connection))

    async def members(self, *, room: str) -> list[Member]:
        """Everyone with at least one live connection to the room, by name."""
        names = await async_redis().hgetall(_keys(room)[2])
        members = [Member(id=int(user), name=name.decode()) for user, name in names.items()]
        return sorted(members, key=lambda m: (m.name.lower(), m.id))

    def counts(self, *, rooms: list[str]) -> dict[str, int]:
        """How many people are in each room (sync: the dashboard's views call it)."""
        pipeline = sync_redis().pipeline(transaction=False)
        for room in rooms:
            pipeline.hlen(_keys(room)[1])
        return dict(zip(rooms, pipeline.execute(), strict=True))

    async def renew(self, *, connections: list[tuple[str, Member, str]]) -> list[tuple[str, Member, bool]]:
        """Extend this process's (room, member, connection)s; re-join those Redis lost.

        Returns the re-joined ones as (room, member, first connection of that member).
        """
        by_room: dict[str, dict[str, Member]] = {}
        for room, member, connection in connections:
            by_room.setdefault(room, {})[f"{member.id}|{connection}"] = member
        rejoined = []
        for room, members in by_room.items():
            missing = await async_redis().eval(RENEW, 1, _keys(room)[0], _expiry(), *members)
            for entry in missing:
                entry = entry.decode()
                member, connection = members[entry], entry.split("|", 1)[1]
                first = await self.join(room=room, member=member, connection=connection)
                rejoined.append((room, member, first))
        return rejoined

    async def reap(self) -> list[tuple[str, Member]]:
        """Drop connections nobody renewed (dead processes); return who left which room."""
        client = async_redis()
        gone = []
        for raw_room in await client.smembers(ROOMS_KEY):
            room = raw_room.decode()
            result = await client.eval(REAP, 3, *_keys(room), time.time())
            for user, name in zip(result[::2], result[1::2], strict=True):
                gone.append((room, Member(id=int(user), name=name.decode())))
        return gone
