"""rooms.realtime.ratelimit: CHAT_RATE_LIMIT messages per CHAT_RATE_WINDOW seconds, per key."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from rooms.realtime.ratelimit import memory
from rooms.realtime.ratelimit.redis import RedisRateLimiter
from rooms.realtime.redis import async_redis
from tests.rooms.realtime.redis_stats import reads_processed

pytestmark = pytest.mark.asyncio


@pytest.fixture
def clock(monkeypatch):
    """A clock the test moves by hand, seen only by the rate limiter."""
    now = SimpleNamespace(value=1000.0)
    monkeypatch.setattr(memory, "time", SimpleNamespace(monotonic=lambda: now.value))
    return now


@pytest.fixture
def limiter(settings, clock):
    """A fresh limiter allowing 2 messages per 10 seconds."""
    settings.CHAT_RATE_LIMIT = 2
    settings.CHAT_RATE_WINDOW = 10.0
    return memory.InMemoryRateLimiter()


async def test_allows_up_to_the_limit_then_refuses(limiter):
    """The first CHAT_RATE_LIMIT messages pass, the next is refused."""
    assert await limiter.admit(key="general:1") == 0
    assert await limiter.admit(key="general:1") == 0
    assert await limiter.admit(key="general:1") > 0


async def test_window_recovers_after_chat_rate_window(limiter, clock):
    """Once CHAT_RATE_WINDOW seconds have passed, the sender may talk again."""
    await limiter.admit(key="general:1")
    await limiter.admit(key="general:1")
    clock.value += 9.9
    assert await limiter.admit(key="general:1") > 0

    clock.value += 0.2
    assert await limiter.admit(key="general:1") == 0


async def test_window_slides_one_message_at_a_time(limiter, clock):
    """Each message leaves the window on its own, CHAT_RATE_WINDOW after it was sent."""
    await limiter.admit(key="general:1")
    clock.value += 5
    await limiter.admit(key="general:1")

    clock.value += 5.1  # the first message has left the window, the second has not
    assert await limiter.admit(key="general:1") == 0
    assert await limiter.admit(key="general:1") > 0


async def test_refused_messages_do_not_extend_the_wait(limiter, clock):
    """Hammering while limited does not push recovery further away."""
    await limiter.admit(key="general:1")
    await limiter.admit(key="general:1")
    for _ in range(5):
        clock.value += 1
        assert await limiter.admit(key="general:1") > 0

    clock.value += 5.1
    assert await limiter.admit(key="general:1") == 0


async def test_each_key_has_its_own_count(limiter):
    """One sender's (or one room's) count never limits another key."""
    await limiter.admit(key="general:1")
    await limiter.admit(key="general:1")

    assert await limiter.admit(key="general:2") == 0
    assert await limiter.admit(key="sports:1") == 0
    assert await limiter.admit(key="general:1") > 0


async def test_a_refusal_says_how_long_until_one_more_is_allowed(limiter, clock):
    """retry_after: the seconds until the oldest message in the window leaves it."""
    await limiter.admit(key="general:1")
    clock.value += 4
    await limiter.admit(key="general:1")
    clock.value += 1

    assert await limiter.admit(key="general:1") == pytest.approx(5.0)
    clock.value += 5.01
    assert await limiter.admit(key="general:1") == 0


# Shared by every process: RedisRateLimiter (the services pass).


async def redis_calls() -> int:
    """How many times Redis has run a script (EVALSHA or EVAL), by its own count."""
    stats = await async_redis().info("commandstats")
    return sum(stats.get(f"cmdstat_{name}", {}).get("calls", 0) for name in ("evalsha", "eval"))


@pytest.mark.services
async def test_two_processes_share_one_count(settings, shared_state):
    """What one process let through counts against the other: the limit is per person, not per process."""
    settings.CHAT_RATE_LIMIT = 2
    settings.CHAT_RATE_WINDOW = 10.0
    here, there = RedisRateLimiter(), RedisRateLimiter()
    assert await here.admit(key="general:1") == 0
    assert await there.admit(key="general:1") == 0
    assert 9 < await there.admit(key="general:1") <= 10
    assert 9 < await here.admit(key="general:1") <= 10
    assert await here.admit(key="general:2") == 0


@pytest.mark.services
async def test_a_flood_past_the_limit_is_refused_without_asking_redis(settings, shared_state):
    """Once this process's own messages fill the window, refusals cost no round trip; others still ask."""
    settings.CHAT_RATE_LIMIT = 3
    settings.CHAT_RATE_WINDOW = 10.0
    limiter = RedisRateLimiter()
    for _ in range(3):
        assert await limiter.admit(key="general:1") == 0
    before = await redis_calls()
    for _ in range(50):
        assert 9 < await limiter.admit(key="general:1") <= 10
    assert await redis_calls() == before

    assert await limiter.admit(key="general:2") == 0  # another person: asked as always
    assert await redis_calls() == before + 1


@pytest.mark.services
async def test_a_window_full_of_other_processes_messages_is_refused_by_redis(settings, shared_state):
    """This process has sent nothing, so it asks; Redis refuses, and nothing is counted for the refusal."""
    settings.CHAT_RATE_LIMIT = 2
    settings.CHAT_RATE_WINDOW = 10.0
    elsewhere = RedisRateLimiter()
    await elsewhere.admit(key="general:1")
    await elsewhere.admit(key="general:1")
    limiter = RedisRateLimiter()
    before = await redis_calls()
    assert await limiter.admit(key="general:1") > 0
    assert await limiter.admit(key="general:1") > 0
    assert await redis_calls() == before + 2
    assert await async_redis().zcard("lets-talk:rate:general:1") == 2


@pytest.mark.services
async def test_messages_asked_at_once_are_counted_exactly_in_a_few_round_trips(settings, shared_state):
    """A hundred messages of one person at once: exactly the limit let through, in a few calls and reads."""
    settings.CHAT_RATE_LIMIT = 60
    settings.CHAT_RATE_WINDOW = 10.0
    limiter = RedisRateLimiter()
    assert await limiter.admit(key="general:2") == 0  # the connection and the script are ready
    before, calls_before = await reads_processed(), await redis_calls()
    waits = await asyncio.gather(*(limiter.admit(key="general:1") for _ in range(100)))
    reads, calls = await reads_processed() - before, await redis_calls() - calls_before

    assert waits[:60] == [0] * 60  # in the order asked
    assert all(9 < wait <= 10 for wait in waits[60:])
    assert await async_redis().zcard("lets-talk:rate:general:1") == 60
    assert reads < 20, f"{reads} reads for 100 messages: they went one round trip each"
    assert calls < 20, f"{calls} script calls for 100 messages: one each"


@pytest.mark.services
async def test_a_redis_that_lost_the_script_counts_each_message_once(settings, shared_state):
    """After SCRIPT FLUSH (a restarted Redis), messages asked together are each counted once, none lost."""
    settings.CHAT_RATE_LIMIT = 4
    settings.CHAT_RATE_WINDOW = 10.0
    limiter = RedisRateLimiter()
    assert await limiter.admit(key="general:1") == 0
    await async_redis().script_flush()
    waits = await asyncio.gather(*(limiter.admit(key=f"general:{user}") for user in (1, 1, 1, 2, 2)))

    assert waits == [0, 0, 0, 0, 0]  # a message counted twice would have filled general:1's window
    assert await async_redis().zcard("lets-talk:rate:general:1") == 4
    assert await async_redis().zcard("lets-talk:rate:general:2") == 2

    loads = await script_loads()
    assert await limiter.admit(key="general:2") == 0
    assert await script_loads() == loads, "the script was loaded again though Redis had it"


@pytest.mark.services
async def test_a_key_that_holds_no_log_fails_only_its_own_message(settings, shared_state):
    """Asked together with another person's message: that one is refused with an error, the other counted."""
    settings.CHAT_RATE_LIMIT = 4
    settings.CHAT_RATE_WINDOW = 10.0
    await async_redis().set("lets-talk:rate:general:9", "not a sorted set")
    limiter = RedisRateLimiter()
    waits = await asyncio.gather(
        limiter.admit(key="general:9"), limiter.admit(key="general:1"), return_exceptions=True
    )
    assert isinstance(waits[0], ConnectionError)
    assert waits[1] == 0
    assert await async_redis().zcard("lets-talk:rate:general:1") == 1


async def script_loads() -> int:
    """How many SCRIPT LOAD and SCRIPT EXISTS commands Redis has run, by its own count."""
    stats = await async_redis().info("commandstats")
    return sum(stats.get(f"cmdstat_script|{name}", {}).get("calls", 0) for name in ("load", "exists"))
