"""What many tasks ask for while a round trip is out goes out together in the next one.

Storing messages (a transaction and its commit, on the database thread),
publishing them to Redis and counting them against the shared rate limit
each cost a round trip whose fixed part is larger than one item's. A
`RoundTrips` sends an item at once when nothing is out, and otherwise with
whatever else was asked meanwhile, in the order asked, as soon as the trip
before returns: never on a timer, so an item alone waits for nothing, and
under load one trip carries many.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

# Sends one batch and gives each item its result (or the exception it fails with), in order.
Send = Callable[[list[Item]], Awaitable[Sequence[Result | Exception]]]


class RoundTrips(Generic[Item, Result]):
    """One sender task per event loop, sending what waits, one batch per round trip, until nothing does."""

    def __init__(
        self,
        send: Send[Item, Result],
        *,
        failure: Callable[[str], Exception],
        most_per_trip: int | None = None,
    ) -> None:
        self._send = send
        self._failure = failure  # what each asker gets when a trip fails as a whole
        self._most = most_per_trip
        # (item, its asker's future): not sent yet.
        self._waiting: list[tuple[Item, asyncio.Future]] = []
        self._sender: asyncio.Task | None = None

    async def ask(self, item: Item) -> Result:
        """Send `item` with the next round trip; return its result, or raise its failure."""
        loop = asyncio.get_running_loop()
        if self._sender is not None and self._sender.get_loop() is not loop:
            # Left by an event loop that has ended (tests run one per case): its askers are gone.
            self._waiting, self._sender = [], None
        answered = loop.create_future()
        self._waiting.append((item, answered))
        if self._sender is None or self._sender.done():
            self._sender = loop.create_task(self._send_waiting())
        return await answered

    async def stop(self, reason: str) -> None:
        """Stop sending; whoever still waits (or is in the trip that is out) fails with `reason`."""
        # An ask made while the sender stops starts another one: stop that too.
        while (sender := self._sender) is not None:
            sender.cancel()
            await asyncio.wait({sender})  # returns when it ends; our own cancellation still raises
            if self._sender is sender:  # cancelled before its first step, it never ran its clean-up
                self._stop_sending(reason)
        self._stop_sending(reason)

    async def _send_waiting(self) -> None:
        me = asyncio.current_task()
        try:
            while self._waiting:
                # An asker that gave up (cancelled) is not sent for.
                batch = [entry for entry in self._waiting[: self._most] if not entry[1].done()]
                del self._waiting[: self._most]
                if not batch:
                    continue
                try:
                    outcomes = await self._send([item for item, _ in batch])
                    if len(outcomes) != len(batch):
                        raise ValueError(f"{len(outcomes)} outcomes for {len(batch)} items")
                except Exception as error:  # the whole trip failed: each asker hears it
                    outcomes = [self._failed(f"{type(error).__name__}: {error}", cause=error) for _ in batch]
                except asyncio.CancelledError as cancelled:  # stopped: this trip may or may not have gone
                    _answer(batch, [self._failed("stopped", cause=cancelled) for _ in batch])
                    raise
                _answer(batch, outcomes)
        finally:
            if self._sender is me:  # not a sender that stop() (or a new event loop) has already replaced
                self._stop_sending("the sender stopped")

    def _stop_sending(self, reason: str) -> None:
        waiting, self._waiting = self._waiting, []
        _answer(waiting, [self._failed(reason) for _ in waiting])
        self._sender = None

    def _failed(self, reason: str, *, cause: BaseException | None = None) -> Exception:
        # An exception of its own for each asker: one raised in many tasks would grow one traceback.
        failure = self._failure(reason)
        failure.__cause__ = cause
        return failure


def _answer(batch: list[tuple[Item, asyncio.Future]], outcomes: Sequence[object]) -> None:
    for (_, answered), outcome in zip(batch, outcomes, strict=True):
        if answered.done():
            continue
        if isinstance(outcome, Exception):
            answered.set_exception(outcome)
        else:
            answered.set_result(outcome)
