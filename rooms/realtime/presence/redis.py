"""Presence shared by every server process, in Redis.

Each connection is a member of a per-room sorted set scored by when it
expires. Its process renews it every PRESENCE_TTL / 3 seconds; a process
that dies stops renewing, and any survivor reaps the expired connections
and announces the people who left. Per-user counts make "first/last
connection of this user in this room" one atomic step.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from django.conf import settings

from rooms.realtime.presence.base import Member, Roster, RosterEntries
from rooms.realtime.redis import async_redis, sync_redis

PREFIX = "lets-talk:presence:"
ROOMS_KEY = f"{PREFIX}rooms"

# A room's first version is Redis's clock in microseconds, not 1: after a
# Redis restart (or flush) versions go on upward, so a socket's roster
# version and a cached roster from before it are never mistaken for news.
# Each version is logged with its change ('+id|name': came or renamed, '-id':
# gone), newest first and the last CHANGES_KEPT kept, so a process holding an
# older roster reads only what changed since (formatted with %d: Lua's own
# number formatting would print a version of 16 digits in exponent form).
CHANGES_KEPT = 512
NEXT_VERSION = f"""
local function next_version(key, changes, change)
  if redis.call('EXISTS', key) == 0 then
    local now = redis.call('TIME')
    redis.call('SET', key, now[1] * 1000000 + now[2])
  end
  local version = redis.call('INCR', key)
  redis.call('LPUSH', changes, string.format('%d', version) .. '|' .. change)
  redis.call('LTRIM', changes, 0, {CHANGES_KEPT - 1})
  return version
end
"""

# KEYS: connections, counts, names, version, changes, rooms. ARGV: user id, connection, expiry, name, room.
# Returns the room's new version for a first connection, else 0 (a new name
# takes a version too, so rosters cached by version see it).
JOIN = (
    NEXT_VERSION
    + """
redis.call('SADD', KEYS[6], ARGV[5])
local renamed = redis.call('HGET', KEYS[3], ARGV[1]) ~= ARGV[4]
redis.call('HSET', KEYS[3], ARGV[1], ARGV[4])
local came = '+' .. ARGV[1] .. '|' .. ARGV[4]
if redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1] .. '|' .. ARGV[2]) == 1 then
  if redis.call('HINCRBY', KEYS[2], ARGV[1], 1) == 1 then return next_version(KEYS[4], KEYS[5], came) end
end
if renamed then next_version(KEYS[4], KEYS[5], came) end
return 0
"""
)

# KEYS: connections, counts, names, version, changes. ARGV: user id, connection.
# Returns the room's new version for a last connection, else 0.
LEAVE = (
    NEXT_VERSION
    + """
if redis.call('ZREM', KEYS[1], ARGV[1] .. '|' .. ARGV[2]) == 1 then
  if redis.call('HINCRBY', KEYS[2], ARGV[1], -1) <= 0 then
    redis.call('HDEL', KEYS[2], ARGV[1])
    redis.call('HDEL', KEYS[3], ARGV[1])
    return next_version(KEYS[4], KEYS[5], '-' .. ARGV[1])
  end
end
return 0
"""
)

# KEYS: connections, counts, names, version, changes. ARGV: now.
# Returns [user id, name, version, ...] of the people gone.
REAP = (
    NEXT_VERSION
    + """
local gone = {}
for _, member in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])) do
  redis.call('ZREM', KEYS[1], member)
  local user = string.match(member, '^([^|]+)|')
  if redis.call('HINCRBY', KEYS[2], user, -1) <= 0 then
    table.insert(gone, user)
    table.insert(gone, redis.call('HGET', KEYS[3], user) or '')
    redis.call('HDEL', KEYS[2], user)
    redis.call('HDEL', KEYS[3], user)
    table.insert(gone, next_version(KEYS[4], KEYS[5], '-' .. user))
  end
end
return gone
"""
)

# KEYS: names, version, changes. ARGV: the version the caller holds a roster
# of (-1: none), that version's log entry as the caller read it ('': not
# known), the most changes to send.
# Returns {version} when that is still current; {version, 'changes', change, ...}
# (newest first) when the log holds every change since the caller's own entry;
# else {version, 'all', the newest log entry or '', user id, name, ...}. A
# version some process took without logging it (one running older code), or a
# Redis restored from an older save (versions taken again, by other changes),
# fails that check: all.
ROSTER = """
local version = tonumber(redis.call('GET', KEYS[2]) or '0')
local held = tonumber(ARGV[1])
if version == held then return {version} end
local missed = version - held
if held >= 0 and ARGV[2] ~= '' and missed > 0 and missed <= tonumber(ARGV[3]) then
  local changes = redis.call('LRANGE', KEYS[3], 0, missed)
  if #changes == missed + 1 and changes[missed + 1] == ARGV[2] then
    table.remove(changes)
    table.insert(changes, 1, 'changes')
    table.insert(changes, 1, version)
    return changes
  end
end
local result = redis.call('HGETALL', KEYS[1])
table.insert(result, 1, redis.call('LINDEX', KEYS[3], 0) or '')
table.insert(result, 1, 'all')
table.insert(result, 1, version)
return result
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
    return [
        f"{PREFIX}{room}:connections",
        f"{PREFIX}{room}:counts",
        f"{PREFIX}{room}:names",
        f"{PREFIX}{room}:version",
        f"{PREFIX}{room}:changes",
    ]


def _expiry() -> float:
    return time.time() + settings.PRESENCE_TTL


@dataclass(frozen=True)
class _LoopLock:
    loop: asyncio.AbstractEventLoop
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


@dataclass
class _KnownRoster:
    """A room's roster as last read here, its members in roster order, and its version's log entry.

    While the version is current, Redis sends only the version; when it is
    not, the changes since, which are applied to the members here.
    """

    entries: RosterEntries = field(default_factory=RosterEntries)
    roster: Roster = field(default_factory=lambda: Roster(version=-1, members=(), encoded="[]"))
    # The log entry of roster.version as read here (b"": not known, so the next read reads all).
    change: bytes = b""

    def apply(self, changes: list[bytes]) -> None:
        """Apply the log's changes (newest first) since roster.version."""
        for change in reversed(changes):
            _version, what = change.decode().split("|", 1)
            if what[0] == "+":
                user, name = what[1:].split("|", 1)
                self.entries.put(Member(id=int(user), name=name))
            else:
                self.entries.drop(int(what[1:]))
        self.change = changes[0]

    def replace(self, present: dict[int, str]) -> None:
        """Make the members these (user id -> name), keeping the encoding of those who stay."""
        for user in [user for user in self.entries.names if user not in present]:
            self.entries.drop(user)
        for user, name in present.items():
            self.entries.put(Member(id=user, name=name))


class RedisPresence:
    """Presence for many processes sharing one Redis."""

    def __init__(self) -> None:
        # Room -> the last roster read here (see _KnownRoster).
        self._known: dict[str, _KnownRoster] = {}
        # Room -> the roster read that starts once the one out returns: callers meanwhile share it.
        self._next_reads: dict[str, asyncio.Task[Roster]] = {}
        # Room -> one read out at a time, on the loop that made it.
        self._reading: dict[str, _LoopLock] = {}

    async def join(self, *, room: str, member: Member, connection: str) -> int | None:
        """Record a connection; the room's new version if it is the member's first, else None."""
        args: list[str | int | float] = [member.id, connection, _expiry(), member.name, room]
        return await async_redis().eval(JOIN, 6, *_keys(room), ROOMS_KEY, *args) or None

    async def leave(self, *, room: str, member: Member, connection: str) -> int | None:
        """Forget a connection; the room's new version if it was the member's last, else None."""
        return await async_redis().eval(LEAVE, 5, *_keys(room), member.id, connection) or None

    async def roster(self, *, room: str) -> Roster:
        """Everyone with at least one live connection to the room, by name.

        Read from Redis after the call, so it holds every change made before
        it; callers who come while a read is out share the next one. In a
        connect storm every join changes the roster, and a read per joiner
        would cost each of N joiners the whole roster: O(N²).
        """
        loop = asyncio.get_running_loop()
        read = self._next_reads.get(room)
        if read is None or read.done() or read.get_loop() is not loop:
            read = self._next_reads[room] = loop.create_task(self._read_next(room))
        try:
            # Shielded: one caller giving up (its socket closed) does not cancel the others' read.
            return await asyncio.shield(read)
        except Exception as error:
            # An exception of its own for each caller: one raised in many tasks would grow one traceback.
            raise ConnectionError(f"reading the roster of {room!r} failed: {error}") from error

    async def _read_next(self, room: str) -> Roster:
        lock = self._reading.get(room)
        if lock is None or lock.loop is not asyncio.get_running_loop():
            lock = self._reading[room] = _LoopLock(asyncio.get_running_loop())
        async with lock.lock:  # the read out now started before some of this one's callers came
            if self._next_reads.get(room) is asyncio.current_task():
                del self._next_reads[room]  # who comes from now on waits for the read after this
            return await self._read(room)

    async def _read(self, room: str) -> Roster:
        known = self._known.get(room)
        held, held_change = (known.roster.version, known.change) if known else (-1, b"")
        names_key, version_key, changes_key = _keys(room)[2:]
        version, *reply = await async_redis().eval(
            ROSTER, 3, names_key, version_key, changes_key, held, held_change, CHANGES_KEPT
        )
        if known is not None and not reply:
            return known.roster
        if known is None:
            known = self._known[room] = _KnownRoster()
        how, *found = reply
        if how == b"changes":
            known.apply(found)
        else:
            newest, *flat = found
            known.replace(
                {int(user): name.decode() for user, name in zip(flat[::2], flat[1::2], strict=True)}
            )
            # The newest entry names this version only if the process that took it logged it.
            known.change = newest if newest.startswith(b"%d|" % version) else b""
        known.roster = known.entries.roster(version)
        return known.roster

    def counts(self, *, rooms: list[str]) -> dict[str, int]:
        """How many people are in each room (sync: the dashboard's views call it)."""
        pipeline = sync_redis().pipeline(transaction=False)
        for room in rooms:
            pipeline.hlen(_keys(room)[1])
        return dict(zip(rooms, pipeline.execute(), strict=True))

    async def renew(
        self, *, connections: list[tuple[str, Member, str]]
    ) -> list[tuple[str, Member, int | None]]:
        """Extend this process's (room, member, connection)s; re-join those Redis lost.

        Returns the re-joined ones as (room, member, what join() returned for them).
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
                version = await self.join(room=room, member=member, connection=connection)
                rejoined.append((room, member, version))
        return rejoined

    async def reap(self) -> list[tuple[str, Member, int]]:
        """Drop connections nobody renewed (dead processes); who left which room, at which version."""
        client = async_redis()
        gone = []
        for raw_room in await client.smembers(ROOMS_KEY):
            room = raw_room.decode() if isinstance(raw_room, bytes) else raw_room
            result = await client.eval(REAP, 5, *_keys(room), time.time())
            for user, name, version in zip(result[::3], result[1::3], result[2::3], strict=True):
                gone.append((room, Member(id=int(user), name=name.decode()), version))
        return gone
