"""Back-Channel Logout: a provider's logout token ends the sessions it names; a bad one changes nothing.

These are misbehaving-provider cases, so they use the hand-written provider
(tests/oidc_provider.py), which signs whatever a test asks: forged keys,
other audiences, replays. The real flow runs against the certified provider.
"""

from __future__ import annotations

import time
import uuid

import pytest
from channels.db import database_sync_to_async
from django.test import Client

from accounts.logout_tokens import LOGOUT_EVENT
from accounts.models import LogoutTokenSeen, OidcIdentity, SiteSession
from accounts.sessions import PROVIDER_SID_KEY
from tests.factories import user_create
from tests.rooms.sockets import TIMEOUT, join_with_session

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

URL = "/oidc/backchannel-logout/"


def logout_claims(provider, **changes) -> dict:
    """A valid logout token's claims for Alice's provider session "sid-alice", with changes (None removes)."""
    claims = {
        "iss": provider.issuer,
        "aud": provider.client_id,
        "iat": int(time.time()),
        "jti": uuid.uuid4().hex,
        "sub": "alice-sub",
        "sid": "sid-alice",
        "events": {LOGOUT_EVENT: {}},
    }
    claims.update(changes)
    return {name: value for name, value in claims.items() if value is not None}


def signed_in_at_provider(user, sid: str) -> Client:
    """A browser signed in as `user` through the provider, in its session `sid`."""
    browser = Client()
    browser.force_login(user)
    session = browser.session
    session[PROVIDER_SID_KEY] = sid
    # Re-checked at the provider just now (mozilla-django-oidc's own key): no re-check due.
    session["oidc_id_token_expiration"] = time.time() + 600
    session.save()
    return browser


@pytest.fixture
def people(provider):
    """Alice (two browsers: laptop in provider session sid-alice, phone in sid-phone) and Bob (sid-bob)."""
    alice, bob = user_create(username="alice"), user_create(username="bob")
    OidcIdentity.objects.create(user=alice, issuer=provider.issuer, subject="alice-sub")
    OidcIdentity.objects.create(user=bob, issuer=provider.issuer, subject="bob-sub")
    return {
        "laptop": signed_in_at_provider(alice, "sid-alice"),
        "phone": signed_in_at_provider(alice, "sid-phone"),
        "bob": signed_in_at_provider(bob, "sid-bob"),
    }


def post_logout(token: str):
    return Client().post(URL, {"logout_token": token})


def still_signed_in(browser: Client) -> bool:
    return browser.get("/rooms/general/token/", HTTP_ACCEPT="application/json").status_code == 200


async def test_a_logout_naming_a_session_ends_it_and_closes_its_sockets(connect, provider, people):
    """sid-alice ends: the laptop's socket closes with 4401; her phone and Bob stay signed in."""
    laptop_socket, _ = await join_with_session(connect, people["laptop"])
    token = provider.sign_id_token(logout_claims(provider))

    response = await database_sync_to_async(post_logout)(token)

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert await laptop_socket.receive_output(timeout=TIMEOUT) == {"type": "websocket.close", "code": 4401}
    assert not await database_sync_to_async(still_signed_in)(people["laptop"])
    assert await database_sync_to_async(still_signed_in)(people["phone"])
    assert await database_sync_to_async(still_signed_in)(people["bob"])


async def test_a_logout_naming_only_the_person_ends_every_session_of_theirs(provider, people):
    """No sid: every session of alice-sub at this provider ends; Bob's stays."""
    token = provider.sign_id_token(logout_claims(provider, sid=None))

    response = await database_sync_to_async(post_logout)(token)

    assert response.status_code == 200
    assert not await database_sync_to_async(still_signed_in)(people["laptop"])
    assert not await database_sync_to_async(still_signed_in)(people["phone"])
    assert await database_sync_to_async(still_signed_in)(people["bob"])


async def test_a_replayed_logout_token_is_refused(provider, people):
    """The same jti twice: the second answer is 400."""
    token = provider.sign_id_token(logout_claims(provider, sid="sid-unknown"))

    first = await database_sync_to_async(post_logout)(token)
    again = await database_sync_to_async(post_logout)(token)

    assert (first.status_code, again.status_code) == (200, 400)
    assert "already used" in again.json()["error_description"]


BAD_TOKENS = {
    "signed with a key the provider never published": ({}, "other_key"),
    "signed with the client secret (HS256)": ({}, "hs256_client_secret"),
    "unsigned (alg none)": ({}, "none"),
    "for another client": ({"aud": "someone-else"}, "rs256"),
    "from another issuer": ({"iss": "https://evil.example"}, "rs256"),
    "without the logout event": ({"events": {"http://example.com/other": {}}}, "rs256"),
    "with events that are not an object": ({"events": [LOGOUT_EVENT]}, "rs256"),
    "with a nonce (an ID token passed off as a logout)": ({"nonce": "n-1"}, "rs256"),
    "naming neither a session nor a person": ({"sid": None, "sub": None}, "rs256"),
    "without a jti": ({"jti": None}, "rs256"),
    "without iat": ({"iat": None}, "rs256"),
    "issued long ago": ({"iat": int(time.time()) - 3600}, "rs256"),
}


@pytest.mark.parametrize("case", list(BAD_TOKENS))
async def test_a_bad_logout_token_gets_400_and_ends_nothing(provider, people, case):
    """Every check of §2.6: a token failing one changes nothing, and its jti is not spent."""
    changes, signing = BAD_TOKENS[case]
    token = provider.sign_id_token(logout_claims(provider, **changes), signing=signing)
    sessions_before = await database_sync_to_async(SiteSession.objects.count)()

    response = await database_sync_to_async(post_logout)(token)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert await database_sync_to_async(SiteSession.objects.count)() == sessions_before
    assert await database_sync_to_async(still_signed_in)(people["laptop"])
    assert not await database_sync_to_async(LogoutTokenSeen.objects.exists)()


async def test_a_request_without_a_token_or_by_get_is_refused(provider, people):
    """No logout_token: 400; GET: 405."""
    assert (await database_sync_to_async(Client().post)(URL, {})).status_code == 400
    assert (await database_sync_to_async(Client().get)(URL)).status_code == 405
