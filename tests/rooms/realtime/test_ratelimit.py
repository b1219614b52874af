"""rooms.realtime.ratelimit: CHAT_RATE_LIMIT messages per CHAT_RATE_WINDOW seconds, per key."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from rooms.realtime.ratelimit import memory

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
    assert await limiter.allow(key="general:1") is True
    assert await limiter.allow(key="general:1") is True
    assert await limiter.allow(key="general:1") is False


async def test_window_recovers_after_chat_rate_window(limiter, clock):
    """Once CHAT_RATE_WINDOW seconds have passed, the sender may talk again."""
    await limiter.allow(key="general:1")
    await limiter.allow(key="general:1")
    clock.value += 9.9
    assert await limiter.allow(key="general:1") is False

    clock.value += 0.2
    assert await limiter.allow(key="general:1") is True


async def test_window_slides_one_message_at_a_time(limiter, clock):
    """Each message leaves the window on its own, CHAT_RATE_WINDOW after it was sent."""
    await limiter.allow(key="general:1")
    clock.value += 5
    await limiter.allow(key="general:1")

    clock.value += 5.1  # the first message has left the window, the second has not
    assert await limiter.allow(key="general:1") is True
    assert await limiter.allow(key="general:1") is False


async def test_refused_messages_do_not_extend_the_wait(limiter, clock):
    """Hammering while limited does not push recovery further away."""
    await limiter.allow(key="general:1")
    await limiter.allow(key="general:1")
    for _ in range(5):
        clock.value += 1
        assert await limiter.allow(key="general:1") is False

    clock.value += 5.1
    assert await limiter.allow(key="general:1") is True


async def test_each_key_has_its_own_count(limiter):
    """One sender's (or one room's) count never limits another key."""
    await limiter.allow(key="general:1")
    await limiter.allow(key="general:1")

    assert await limiter.allow(key="general:2") is True
    assert await limiter.allow(key="sports:1") is True
    assert await limiter.allow(key="general:1") is False
