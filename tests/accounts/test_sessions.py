"""Sockets bound to the site session that minted their tickets: they end when it does, however it ends."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import pytest
import pytest_asyncio
from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from accounts.discovery import forget_provider_configuration
from accounts.models import SiteSession
from accounts.sessions import SOCKET_SESSION_KEY, SessionStore
from rooms.models import Room, RoomKind, RoomMember
from rooms.realtime import consumer
from rooms.realtime.consumer import MAX_STRIKES, REFRESH_TOO_SOON
from rooms.realtime.handshake import auth, tickets
from tests.factories import browser_signed_in, user_create
from tests.rooms.sockets import TIMEOUT, join_with_session, session_ticket

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

SIGNED_OUT = {"type": "websocket.close", "code": 4401}


@pytest_asyncio.fixture
async def alice():
    return await database_sync_to_async(user_create)(username="alice", display_name="Alice")


async def browser_of(user) -> Client:
    """A browser signed in as `user`: a session of its own."""
    return await database_sync_to_async(browser_signed_in)(user)


def browser_with(session_key: str) -> Client:
    """A browser holding this session cookie."""
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = session_key
    return client


def socket_session_of(token: str) -> str:
    return tickets.decode(token).session


async def test_a_session_row_knows_its_user_and_the_id_its_tickets_carry(alice):
    """The ticket's sid is the session's socket_session, stored beside the user."""
    browser = await browser_of(alice)
    token = await session_ticket(browser)

    row = await database_sync_to_async(SiteSession.objects.get)(session_key=browser.session.session_key)

    assert (row.user_id, row.socket_session) == (alice.pk, socket_session_of(token))
    assert tickets.decode(token).until == int(row.expire_date.timestamp())


async def test_a_ticket_of_a_session_that_signed_out_opens_nothing(connect, alice):
    """A ticket copied out of a browser before it signed out is refused at the handshake."""
    browser = await browser_of(alice)
    token = await session_ticket(browser)
    await database_sync_to_async(browser.post)("/accounts/logout/")

    _socket, connected, _code = await connect(f"/ws/rooms/general/?token={token}")

    assert not connected


async def test_signing_in_again_in_the_same_browser_keeps_its_sockets(connect, alice):
    """A new session key (sign-in, a provider re-check) is the same session to its sockets."""
    browser = await browser_of(alice)
    socket, _ = await join_with_session(connect, browser)
    session = SessionStore(browser.session.session_key)

    await database_sync_to_async(session.cycle_key)()  # what django.contrib.auth.login() does

    rows = await database_sync_to_async(list)(SiteSession.objects.filter(user=alice))
    assert [row.session_key for row in rows] == [session.session_key]
    same_browser = browser_with(session.session_key)
    assert rows[0].socket_session == socket_session_of(await session_ticket(same_browser))
    assert await socket.receive_nothing(timeout=0.3)


async def test_an_admin_ending_a_session_closes_its_sockets_and_no_others(connect, alice, admin_client):
    """The "end sessions" action on Alice's laptop closes the laptop's socket; her phone's stays."""
    laptop, phone = await browser_of(alice), await browser_of(alice)
    laptop_socket, _ = await join_with_session(connect, laptop)
    phone_socket, _ = await join_with_session(connect, phone, room="sports")
    row = await database_sync_to_async(SiteSession.objects.get)(session_key=laptop.session.session_key)

    response = await database_sync_to_async(admin_client.post)(
        "/admin/accounts/sitesession/", {"action": "end_sessions", "_selected_action": [row.pk]}
    )

    assert response.status_code == 302
    assert await laptop_socket.receive_output(timeout=TIMEOUT) == SIGNED_OUT
    assert await phone_socket.receive_nothing(timeout=0.3)
    assert (await database_sync_to_async(laptop.get)("/rooms/general/token/")).status_code == 401


async def test_clearsessions_closes_the_sockets_of_the_sessions_it_clears(connect, alice):
    """An expired session that `manage.py clearsessions` removes takes its sockets with it."""
    browser = await browser_of(alice)
    socket, _ = await join_with_session(connect, browser)
    await database_sync_to_async(SiteSession.objects.filter(session_key=browser.session.session_key).update)(
        expire_date=timezone.now() - timedelta(seconds=1)
    )

    await database_sync_to_async(call_command)("clearsessions")

    assert await socket.receive_output(timeout=TIMEOUT) == SIGNED_OUT
    assert not await database_sync_to_async(SiteSession.objects.filter(user=alice).exists)()


async def test_a_new_password_closes_the_persons_sockets_in_every_session(connect, alice):
    """However it is set, a new password ends the chat of every browser of that person."""
    laptop, phone = await browser_of(alice), await browser_of(alice)
    sockets = [(await join_with_session(connect, browser))[0] for browser in (laptop, phone)]

    def new_password() -> None:
        alice.set_password("an entirely new secret")
        alice.save()

    await database_sync_to_async(new_password)()

    for socket in sockets:
        assert await socket.receive_output(timeout=TIMEOUT) == SIGNED_OUT


async def session_socket(connect, browser, *, until: int, room: str = "general"):
    """A socket with a ticket of `browser`'s session whose deadline is `until`."""
    sid = socket_session_of(await session_ticket(browser, room))
    user_id = tickets.decode(await session_ticket(browser, room)).user_id
    token = tickets.issue(user_id=user_id, name="Alice", room=room, session=sid, until=until)
    socket, connected, code = await connect(f"/ws/rooms/{room}/?token={token}")
    assert connected, code
    welcome = await socket.receive_json_from(timeout=TIMEOUT)
    return socket, welcome, sid


async def test_a_socket_not_renewed_by_its_deadline_closes_with_4401(connect, alice):
    """The welcome says when to renew; nothing comes, and at the deadline the socket closes."""
    browser = await browser_of(alice)
    socket, welcome, _sid = await session_socket(connect, browser, until=int(time.time()) + 3)

    assert 0 <= welcome["renew_in"] <= 3
    assert await socket.receive_output(timeout=6) == SIGNED_OUT


async def test_a_refresh_with_a_fresh_ticket_moves_the_deadline(connect, alice):
    """The page sends a ticket of the same session and room: the socket outlives the old deadline."""
    browser = await browser_of(alice)
    socket, _welcome, _sid = await session_socket(connect, browser, until=int(time.time()) + 2)

    await socket.send_json_to({"type": "refresh", "token": await session_ticket(browser)})

    refreshed = await socket.receive_json_from(timeout=TIMEOUT)
    assert refreshed["type"] == "refreshed"
    assert refreshed["renew_in"] > 3600
    await asyncio.sleep(2.5)
    await socket.send_json_to({"type": "message", "text": "still here", "client_id": "c1"})
    assert (await socket.receive_json_from(timeout=TIMEOUT))["text"] == "still here"


@pytest.mark.parametrize("other", ["room", "session"])
async def test_a_refresh_with_a_ticket_for_another_room_or_session_is_refused(connect, alice, other):
    """An error frame says so; the socket keeps its deadline and stays open meanwhile."""
    browser = await browser_of(alice)
    socket, _welcome, _sid = await session_socket(connect, browser, until=int(time.time()) + 60)
    source = browser if other == "room" else await browser_of(alice)
    token = await session_ticket(source, "sports" if other == "room" else "general")

    await socket.send_json_to({"type": "refresh", "token": token})

    refusal = await socket.receive_json_from(timeout=TIMEOUT)
    assert (refusal["type"], refusal["code"]) == ("error", "refresh_refused")
    assert await socket.receive_nothing(timeout=0.2)


async def test_a_refresh_after_losing_the_room_closes_with_4403(connect, alice):
    """Finance was taken from Alice meanwhile (no event reached this socket): the refresh finds out."""
    room = await database_sync_to_async(Room.objects.create)(
        slug="finance", name="Finance", kind=RoomKind.PRIVATE
    )
    await database_sync_to_async(RoomMember.objects.create)(room=room, user=alice)
    browser = await browser_of(alice)
    socket, _ = await join_with_session(connect, browser, room="finance")
    await asyncio.sleep(1.1)  # a second later: the new ticket moves the deadline, so it is checked
    token = await session_ticket(browser, "finance")
    await database_sync_to_async(RoomMember.objects.filter(room=room).delete)()  # no service: no event

    await socket.send_json_to({"type": "refresh", "token": token})

    assert await socket.receive_output(timeout=TIMEOUT) == {"type": "websocket.close", "code": 4403}


async def test_refreshes_come_one_per_interval_and_do_not_clear_strikes(connect, alice):
    """A second refresh right after the first is refused, and a flood of them counts as refused frames."""
    browser = await browser_of(alice)
    socket, _welcome, _sid = await session_socket(connect, browser, until=int(time.time()) + 60)
    token = await session_ticket(browser)

    await socket.send_json_to({"type": "refresh", "token": token})
    assert (await socket.receive_json_from(timeout=TIMEOUT))["type"] == "refreshed"
    for _ in range(MAX_STRIKES - 1):
        await socket.send_json_to({"type": "refresh", "token": token})
        refusal = await socket.receive_json_from(timeout=TIMEOUT)
        assert (refusal["code"], refusal["detail"]) == ("refresh_refused", REFRESH_TOO_SOON)
    await socket.send_json_to({"type": "refresh", "token": token})

    assert (await socket.receive_json_from(timeout=TIMEOUT))["code"] == "refresh_refused"
    assert await socket.receive_output(timeout=TIMEOUT) == {"type": "websocket.close", "code": 4008}


async def test_signing_out_while_a_socket_enters_still_closes_it(connect, alice, monkeypatch):
    """A sign-out committed between the handshake's check and the socket joining its groups is not missed."""
    browser = await browser_of(alice)
    token = await session_ticket(browser)
    real_standing = auth.ticket_standing
    calls = 0

    def sign_out_first_time(ticket):
        nonlocal calls
        calls += 1
        standing = real_standing(ticket)
        if calls == 1:  # the middleware's check has passed: sign out before the consumer joins
            browser.post("/accounts/logout/")
        return standing

    monkeypatch.setattr(auth, "ticket_standing", sign_out_first_time)
    monkeypatch.setattr(consumer, "ticket_standing", sign_out_first_time)

    _socket, connected, _code = await connect(f"/ws/rooms/general/?token={token}")

    assert not connected
    assert calls == 2


async def test_tickets_keep_chat_going_while_the_provider_is_down_for_its_recheck(alice, provider, settings):
    """The re-check is due and the provider does not answer: the session is kept, and chat with it, a minute
    at a time (a ticket's deadline lies past its own minute); each renewal tries the provider again."""
    browser = await browser_of(alice)

    def recheck_due() -> None:
        session = browser.session
        session["oidc_id_token_expiration"] = time.time() - 5
        session.save()

    await database_sync_to_async(recheck_due)()
    settings.OIDC_ISSUER = "http://127.0.0.1:9"  # nothing listens there
    forget_provider_configuration()

    token = await session_ticket(browser)

    assert tickets.decode(token).until >= time.time() + settings.CHAT_JWT_TTL


async def test_a_session_saved_through_the_async_api_keeps_its_user_and_socket_session(alice):
    """Django's async session API (alogin, asave) fills the same columns as the sync one."""
    session = SessionStore()
    session[SESSION_KEY] = str(alice.pk)
    session[SOCKET_SESSION_KEY] = "feedface" * 4

    await session.asave()

    row = await database_sync_to_async(SiteSession.objects.get)(session_key=session.session_key)
    assert (row.user_id, row.socket_session) == (alice.pk, "feedface" * 4)
