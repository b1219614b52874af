"""Room tickets die with the access they stood for: sign-out, deactivation, a new password."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from django.test import Client

from accounts.services import user_deactivate
from rooms.realtime.handshake import tickets
from tests.factories import browser_signed_in, user_create
from tests.rooms.sockets import TIMEOUT

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

NEW_PASSWORD = "a new password, long enough 42"


def ticket_from_the_page(client: Client) -> str:
    """A ticket as the room page fetches it: over HTTP, with the session."""
    response = client.get("/rooms/general/token/")
    assert response.status_code == 200
    return response.json()["token"]


async def test_a_ticket_minted_before_sign_out_no_longer_opens_a_socket(connect):
    """Someone who signed out cannot use a ticket fetched just before: the handshake is refused."""
    user = await database_sync_to_async(user_create)(display_name="Alice")
    client = await database_sync_to_async(browser_signed_in)(user)
    token = await database_sync_to_async(ticket_from_the_page)(client)

    await database_sync_to_async(client.post)("/accounts/logout/")

    _socket, connected, _code = await connect(f"/ws/rooms/general/?token={token}")
    assert not connected


async def test_signing_in_again_gives_tickets_that_work(connect):
    """After a sign-out, a fresh session's tickets open rooms as before."""
    user = await database_sync_to_async(user_create)(display_name="Alice")
    client = await database_sync_to_async(browser_signed_in)(user)
    await database_sync_to_async(client.post)("/accounts/logout/")
    again = await database_sync_to_async(browser_signed_in)(user)
    token = await database_sync_to_async(ticket_from_the_page)(again)

    _socket, connected, _code = await connect(f"/ws/rooms/general/?token={token}")
    assert connected


async def test_a_new_password_from_the_admin_closes_sockets_and_refuses_older_tickets(connect):
    """The admin's "change password" closes the person's sockets (4401) and kills their unused tickets."""
    user = await database_sync_to_async(user_create)(display_name="Alice")
    admin = await database_sync_to_async(user_create)(is_staff=True, is_superuser=True)
    alice_client = await database_sync_to_async(browser_signed_in)(user)
    unused = await database_sync_to_async(ticket_from_the_page)(alice_client)
    socket, connected, _code = await connect(
        f"/ws/rooms/general/?token={await database_sync_to_async(ticket_from_the_page)(alice_client)}"
    )
    assert connected
    await socket.receive_json_from(timeout=TIMEOUT)  # welcome

    admin_client = await database_sync_to_async(browser_signed_in)(admin)
    response = await database_sync_to_async(admin_client.post)(
        f"/admin/accounts/user/{user.pk}/password/", {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )
    assert response.status_code == 302

    assert await socket.receive_output(timeout=TIMEOUT) == {"type": "websocket.close", "code": 4401}
    _late, connected, _code = await connect(f"/ws/rooms/general/?token={unused}")
    assert not connected


async def test_a_deactivated_persons_unused_ticket_is_refused(connect):
    """Deactivation revokes tickets too (and the handshake refuses inactive users besides)."""
    user = await database_sync_to_async(user_create)(display_name="Alice")
    token = tickets.issue(user_id=user.pk, name="Alice", room="general")

    await database_sync_to_async(user_deactivate)(user=user)
    await database_sync_to_async(user.refresh_from_db)()

    assert user.ticket_generation == 1
    _socket, connected, _code = await connect(f"/ws/rooms/general/?token={token}")
    assert not connected
