"""rooms.realtime.small_queues: what uvicorn and the in-memory layer ask of asyncio's Queue and Event."""

from __future__ import annotations

import asyncio

import pytest

from rooms.realtime.small_queues import SmallEvent, SmallQueue

pytestmark = pytest.mark.asyncio


async def test_an_event_wakes_everyone_waiting_when_set_and_lets_through_while_set():
    """wait() blocks while clear, returns for every waiter at set(), and at once while set."""
    event = SmallEvent()
    waiters = [asyncio.ensure_future(event.wait()) for _ in range(3)]
    await asyncio.sleep(0)
    assert not any(waiter.done() for waiter in waiters)

    event.set()

    assert await asyncio.wait_for(asyncio.gather(*waiters), timeout=5) == [True, True, True]
    assert await asyncio.wait_for(event.wait(), timeout=5) is True
    event.clear()
    assert not event.is_set()


async def test_a_cancelled_waiter_leaves_the_others_waiting():
    """Cancelling one wait() (a socket closing) neither wakes nor loses the others."""
    event = SmallEvent(is_set=False)
    leaving, staying = asyncio.ensure_future(event.wait()), asyncio.ensure_future(event.wait())
    await asyncio.sleep(0)
    leaving.cancel()
    with pytest.raises(asyncio.CancelledError):
        await leaving
    assert not staying.done()

    event.set()

    assert await asyncio.wait_for(staying, timeout=5) is True


async def test_an_unbounded_queue_takes_everything_and_gives_it_back_in_order():
    """Capacity 0 (uvicorn's receive queue): no put is refused; get() returns in order, then waits."""
    queue: SmallQueue[int] = SmallQueue()
    assert all(queue.put_nowait(n) for n in range(2000))
    assert [await queue.get() for _ in range(2000)] == list(range(2000))
    assert queue.empty()
    assert queue.idle

    later = asyncio.ensure_future(queue.get())
    await asyncio.sleep(0)
    assert not later.done()
    queue.put_nowait(7)
    assert await asyncio.wait_for(later, timeout=5) == 7
