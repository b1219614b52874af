"""A client's change to a message it can see (edit, delete, react): the service that makes it.

Runs in the database thread; the room hears of each change from the service,
once its transaction commits (rooms.realtime.notify).
"""

from __future__ import annotations

from accounts.models import User
from rooms.models import Room
from rooms.realtime.protocol import outbound
from rooms.realtime.protocol.inbound import ClientChange, ClientDelete, ClientEdit
from rooms.services import message_delete_in_room, message_edit, reaction_toggle


def change_apply(change: ClientChange, *, room: Room, user: User) -> outbound.Frame | None:
    """Make the change as `user`; a frame for the sender alone when the room hears nothing.

    An edit to the text the message already has is no room event, but the
    page that sent it waits to hear: it gets the message as it stands.
    """
    if isinstance(change, ClientEdit):
        message, changed = message_edit(room=room, message_id=change.id, editor=user, text=change.text)
        return None if changed else outbound.message_edited(message)
    if isinstance(change, ClientDelete):
        message_delete_in_room(room=room, message_id=change.id, by=user)
    else:
        reaction_toggle(room=room, message_id=change.id, user=user, emoji=change.emoji)
    return None
