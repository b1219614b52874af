"""rooms.realtime.notify: the domain's one bridge to the sockets; every event waits for its commit."""

from __future__ import annotations

import pytest
from channels.consumer import get_handler_name

from rooms.realtime import notify
from rooms.realtime.consumer import RoomConsumer
from rooms.realtime.protocol import outbound
from rooms.realtime.protocol.layer import UserEvent

pytestmark = pytest.mark.django_db


def test_every_user_event_has_a_handler_on_the_room_socket():
    """Each event sent to a user's group names a RoomConsumer method (Channels' "user.x" -> user_x)."""
    for kind in UserEvent:
        assert callable(getattr(RoomConsumer, get_handler_name({"type": str(kind)}), None)), kind


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
def test_nothing_is_sent_before_the_transaction_commits(django_capture_on_commit_callbacks, send):
    """Each bridge call only queues its event for the commit; a rollback would send nothing."""
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        send()

    assert len(callbacks) == 1
