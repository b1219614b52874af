"""Presence changes that met within CHAT_PRESENCE_COALESCE, sent to a room's sockets together.

Each socket is told only what its welcome's roster did not show (the
changes with a presence version above its roster's), so a newcomer never
hears of its own arrival and nobody hears of a change twice. Almost every
socket's roster is older than the whole batch, and they all get one frame,
encoded once; a socket that entered during the interval gets the part after
its roster, encoded once per such cut. What a part tells is its net effect
per user: someone who came and went within it is not mentioned at all. One
change is told by its own frame (user_joined or user_left), several by one
presence_diff.
"""

from __future__ import annotations

from bisect import bisect_right

from rooms.realtime.protocol import outbound
from rooms.realtime.protocol.layer import RoomEvent
from rooms.realtime.wire.frames import SharedFrame


class PresenceBatch:
    """A room's presence changes in version order, and the frames telling them."""

    def __init__(self, events: list[dict]) -> None:
        # Room events of user_joined or user_left, each with its version and frame (`presence`).
        self._events = sorted(events, key=lambda event: event["version"])
        self._versions = [event["version"] for event in self._events]
        self._messages: dict[int, dict | None] = {}  # index of the first change told -> ASGI message

    @property
    def version(self) -> int:
        return self._versions[-1]

    def event(self) -> dict:
        """The batch as a room event for the hub's fan-out: each socket is told since() its roster.

        Even when the changes cancel out for the rosters older than the batch: a
        roster inside it (someone who entered meanwhile) may still need its part.
        """
        full = self.since(self._versions[0] - 1)
        return {
            "type": str(RoomEvent.FRAME),
            "frame": "" if full is None else full["text"],  # unused: sockets ask since()
            "version": self.version,
            "batch": self,
        }

    def since(self, version: int) -> dict | None:
        """The ASGI message telling a socket whose roster is at `version` what changed after it (or None)."""
        start = bisect_right(self._versions, version)
        if start not in self._messages:
            text = self._text(self._events[start:])
            self._messages[start] = None if text is None else SharedFrame(text)
        return self._messages[start]

    @staticmethod
    def _text(events: list[dict]) -> str | None:
        first: dict[object, dict] = {}
        last: dict[object, dict] = {}
        for event in events:
            user_id = event["presence"]["user"]["id"]
            first.setdefault(user_id, event)
            last.pop(user_id, None)  # re-inserted: people in the order of their last change
            last[user_id] = event
        # Came and went, or went and came back: as they were (a name change waits for the roster).
        told = [
            event
            for user_id, event in last.items()
            if first[user_id]["presence"]["type"] == event["presence"]["type"]
        ]
        if len(told) <= 1:
            return told[0]["frame"] if told else None
        frames = [event["presence"] for event in told]
        diff = outbound.presence_diff(
            joins=[frame["user"] for frame in frames if frame["type"] == "user_joined"],
            leaves=[frame["user"] for frame in frames if frame["type"] == "user_left"],
        )
        return outbound.encode(diff)
