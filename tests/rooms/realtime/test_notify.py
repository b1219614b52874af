"""rooms.realtime.notify: the domain's one bridge to the sockets; every event waits for its commit."""

from __future__ import annotations

import asyncio

import pytest
from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.db import transaction

from rooms.realtime import notify
from rooms.realtime.consumer import RoomConsumer
from rooms.realtime.protocol import outbound
from rooms.realtime.protocol.layer import UserEvent, room_group

pytestmark = pytest.mark.django_db


def test_every_user_event_has_a_handler_on_the_room_socket():
    """Each event sent to a user's group names a RoomConsumer method (Channels' "user.x" -> user_x)."""
    for kind in UserEvent:
        assert callable(getattr(RoomConsumer, get_handler_name({"type": str(kind)}), None)), kind


class RolledBack(Exception):
    """Raised to roll a transaction back."""


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
async def test_a_room_frame_reaches_the_room_only_if_its_transaction_commits():
    """A rolled-back change tells no socket; a committed one reaches the room's group."""
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(room_group("general"), channel)
    frame = outbound.message_deleted(1, seq=1)

    def change(*, commit: bool) -> None:
        try:
            with transaction.atomic():
                notify.room_send_on_commit(room="general", frame=frame)
                if not commit:
                    raise RolledBack()
        except RolledBack:
            pass

    # One receive throughout: channels-redis drops a channel whose receive is cancelled.
    arrival = asyncio.ensure_future(layer.receive(channel))
    await database_sync_to_async(change)(commit=False)
    await asyncio.sleep(0.3)
    assert not arrival.done()

    await database_sync_to_async(change)(commit=True)
    assert (await asyncio.wait_for(arrival, 2))["frame"] == outbound.encode(frame)


@pytest.mark.parametrize(
    "send",
    [
        lambda: notify.room_send_on_commit(room="general", frame=outbound.message_deleted(1, seq=1)),
        lambda: notify.room_close_on_commit(room="general"),
        lambda: notify.user_sockets_close(user_id=1),
        lambda: notify.user_mute_notify(user_id=1, room="general", until=None),
    ],
    ids=["room frame", "room close", "sockets close", "mute"],
)
def test_every_bridge_call_waits_for_the_commit(django_capture_on_commit_callbacks, send):
    """Each bridge call queues exactly one send for the commit; a rollback would send nothing."""
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        send()

    assert len(callbacks) == 1
