"""A session the OpenID provider ends closes that person's open sockets, like signing out does."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.test import Client

from chatsite.asgi import application
from rooms.realtime.handshake import tickets
from tests.accounts.test_oidc import let_the_id_token_expire, sign_in
from tests.factories import user_create
from tests.rooms.sockets import SITE_HEADERS, TIMEOUT, session_ticket

# serialized_rollback: keep the seeded rooms that a transactional flush would wipe.
pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

User = get_user_model()


async def open_general(user, browser: Client | None = None) -> WebsocketCommunicator:
    """A socket of `user` in General (a ticket of `browser`'s session, if given), past its welcome."""
    if browser is None:
        token = tickets.issue(user_id=user.pk, name=user.get_display_name(), room="general")
    else:
        token = await session_ticket(browser)
    communicator = WebsocketCommunicator(
        application, f"/ws/rooms/general/?token={token}", headers=SITE_HEADERS
    )
    connected, code = await communicator.connect(timeout=TIMEOUT)
    assert connected, f"handshake refused ({code})"
    assert (await communicator.receive_json_from(timeout=TIMEOUT))["type"] == "welcome"
    return communicator


def provider_answers_login_required(client: Client):
    """The silent re-check (prompt=none) answers error=login_required: the provider session is over."""
    let_the_id_token_expire(client)
    refresh = client.get("/rooms/")
    assert refresh.status_code == 302
    query = parse_qs(urlsplit(refresh["Location"]).query)
    assert query["prompt"] == ["none"]
    return client.get("/oidc/callback/", {"error": "login_required", "state": query["state"][0]})


async def test_provider_ending_the_session_closes_the_users_sockets_with_4401(provider):
    """A re-check answered with login_required signs the user out and closes their sockets (4401)."""
    browser = Client()
    await database_sync_to_async(sign_in)(browser, provider)
    alice = await database_sync_to_async(User.objects.get)(oidc_identities__subject="alice-sub-1")
    bob = await database_sync_to_async(user_create)(username="bob", display_name="Bob")
    alice_socket, bob_socket = await open_general(alice, browser), await open_general(bob)
    await alice_socket.receive_json_from(timeout=TIMEOUT)  # bob joined
    try:
        response = await database_sync_to_async(provider_answers_login_required)(browser)

        assert response["Location"] == "/accounts/login/"
        assert await alice_socket.receive_output(timeout=TIMEOUT) == {"type": "websocket.close", "code": 4401}
        token_answer = await database_sync_to_async(browser.get)("/rooms/general/token/")
        assert token_answer.status_code == 401
        # Only that person's sockets: Bob hears Alice leave, and nothing closes his.
        await alice_socket.disconnect()
        assert (await bob_socket.receive_json_from(timeout=TIMEOUT))["type"] == "user_left"
        assert await bob_socket.receive_nothing(timeout=0.2)
    finally:
        await alice_socket.disconnect()
        await bob_socket.disconnect()
