"""The WebSocket handshake (README "WebSocket protocol"): who may open a room socket.

Every refusal is an HTTP 403 through chatsite.asgi.application, as a client
would meet it: nothing is stored and nothing reaches the room (an observer in
General hears nothing). The ticket's own checks are also unit-tested in
handshake/test_tickets.py, and the origin rule in handshake/test_origin.py.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest
from channels.db import database_sync_to_async
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.conf import settings

from rooms.models import Room
from rooms.realtime.handshake import tickets
from rooms.realtime.process import transport
from tests.factories import token_sign
from tests.oidc_provider import OpenIDProvider
from tests.rooms.sockets import SITE_HEADERS, TIMEOUT, assert_refused, claims_for, join, online_ids, ticket

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

GENERAL = "/ws/rooms/general/?token="
# Our tokens are ~300 bytes; these are what a hostile client might send instead.
OVERSIZED_BYTES = [8 * 1024, 64 * 1024, 1024 * 1024]


@pytest.fixture(scope="module")
def provider_keys() -> OpenIDProvider:
    """An OpenID provider's keys and client secret (not served: only its signing is used)."""
    return OpenIDProvider()


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs256_by_hand(claims: dict, key: bytes, header: dict | None = None) -> str:
    """An HS256 JWT signed with any bytes as the key (PyJWT refuses PEM keys as HMAC secrets)."""
    header = header or {"alg": "HS256", "typ": "JWT"}
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(signature)}"


async def test_hand_signed_token_with_our_key_opens_the_room(connect, alice):
    """The control for the hand-made forgeries below: signed by hand with our key, a token works."""
    token = hs256_by_hand(claims_for(alice), settings.CHAT_JWT_SECRET.encode())
    _socket, connected, _code = await connect(GENERAL + token)
    assert connected


# Algorithm confusion.


async def test_handshake_refused_for_rs256_token(connect, observer, alice):
    """A token signed RS256 (with any RSA key) is not our algorithm."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode(claims_for(alice), key, algorithm="RS256")
    await assert_refused(connect, observer, GENERAL + token)


async def test_handshake_refused_for_es256_token(connect, observer, alice):
    """A token signed ES256 is not our algorithm."""
    key = ec.generate_private_key(ec.SECP256R1())
    token = jwt.encode(claims_for(alice), key, algorithm="ES256")
    await assert_refused(connect, observer, GENERAL + token)


@pytest.mark.parametrize("encoding", [serialization.Encoding.PEM, serialization.Encoding.DER])
async def test_handshake_refused_for_a_public_key_used_as_the_hmac_secret(
    connect, observer, alice, provider_keys, encoding
):
    """The provider's public key (what anyone can download) as an HS256 secret opens nothing."""
    public = provider_keys.key.public_key().public_bytes(
        encoding, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    await assert_refused(connect, observer, GENERAL + hs256_by_hand(claims_for(alice), public))


async def test_handshake_refused_for_the_providers_id_token(connect, observer, alice, provider_keys):
    """An ID token from the OpenID provider, even with room-token claims, is not a room token."""
    id_token = provider_keys.sign_id_token(
        {**claims_for(alice), "nonce": "n-1", "auth_time": int(time.time())}, signing="rs256"
    )
    assert jwt.get_unverified_header(id_token)["alg"] == "RS256"
    await assert_refused(connect, observer, GENERAL + id_token)


async def test_handshake_refused_for_a_token_signed_with_the_oidc_client_secret(
    connect, observer, alice, provider_keys
):
    """HS256 with the OIDC client secret (mozilla-django-oidc's old default key) is not our key."""
    token = provider_keys.sign_id_token(claims_for(alice), signing="hs256_client_secret")
    await assert_refused(connect, observer, GENERAL + token)


# Claims.


@pytest.mark.parametrize("claim", tickets.REQUIRED_CLAIMS)
async def test_handshake_refused_for_a_token_missing_a_required_claim(connect, observer, alice, claim):
    """Without any one of exp, iat, aud, iss, sub and room, a well-signed token is refused."""
    await assert_refused(connect, observer, GENERAL + token_sign(claims_for(alice, **{claim: None})))


async def test_handshake_accepted_just_inside_the_leeway(connect, alice):
    """A token that expired a moment ago, within LEEWAY_SECONDS, still opens the room (clock drift)."""
    now = int(time.time())
    exp = now - tickets.LEEWAY_SECONDS + 3  # 3 s of the leeway left when it is checked
    token = token_sign(claims_for(alice, iat=now - 60, nbf=now - 60, exp=exp))
    _socket, connected, _code = await connect(GENERAL + token)
    assert connected


async def test_handshake_refused_just_outside_the_leeway(connect, observer, alice):
    """A token that expired more than LEEWAY_SECONDS ago is refused."""
    now = int(time.time())
    exp = now - tickets.LEEWAY_SECONDS - 1
    token = token_sign(claims_for(alice, iat=now - 60, nbf=now - 60, exp=exp))
    await assert_refused(connect, observer, GENERAL + token)


@pytest.mark.parametrize(
    "audience",
    [[tickets.AUDIENCE], [tickets.AUDIENCE, "other.api"], "rooms", "rooms.ws.evil", ""],
)
async def test_handshake_refused_for_an_audience_that_is_not_exactly_ours(connect, observer, alice, audience):
    """aud must be exactly "rooms.ws": not a list holding it, nor a prefix or an extension of it."""
    await assert_refused(connect, observer, GENERAL + token_sign(claims_for(alice, aud=audience)))


@pytest.mark.parametrize("transform", ["prefix", "extension", "list"])
async def test_handshake_refused_for_an_issuer_that_is_almost_ours(connect, observer, alice, transform):
    """An iss that is a prefix of ours, extends ours, or lists ours is refused."""
    ours = settings.CHAT_JWT_ISSUER
    issuer = {"prefix": ours[:-1], "extension": ours + ".evil", "list": [ours]}[transform]
    # By hand: PyJWT will not even encode a list-valued iss.
    token = hs256_by_hand(claims_for(alice, iss=issuer), settings.CHAT_JWT_SECRET.encode())
    await assert_refused(connect, observer, GENERAL + token)


async def test_handshake_refused_for_an_unknown_critical_header(connect, observer, alice):
    """A header naming an extension in `crit` that we do not understand is refused (RFC 7515 §4.1.11)."""
    header = {"alg": "HS256", "typ": "JWT", "crit": ["urn:example:policy"], "urn:example:policy": 1}
    token = hs256_by_hand(claims_for(alice), settings.CHAT_JWT_SECRET.encode(), header)
    await assert_refused(connect, observer, GENERAL + token)


# Size: refused before any decoding.


def forbid_decoding(monkeypatch) -> None:
    """Fail the test if PyJWT is asked to parse anything."""

    def decode_called(*args, **kwargs):
        pytest.fail("an oversized token reached PyJWT")

    for name in ("decode", "decode_complete", "get_unverified_header"):
        monkeypatch.setattr(jwt, name, decode_called)
    monkeypatch.setattr(jwt.api_jws.PyJWS, "_load", decode_called)


@pytest.mark.parametrize("size", OVERSIZED_BYTES)
async def test_oversized_query_token_is_refused_without_decoding(connect, observer, alice, monkeypatch, size):
    """An 8 KB, 64 KB or 1 MB ?token= is refused before PyJWT sees it."""
    token = token_sign(claims_for(alice, jti="x" * size))  # well signed, only too big
    assert len(token) > size
    forbid_decoding(monkeypatch)
    await assert_refused(connect, observer, GENERAL + token)


@pytest.mark.parametrize("size", OVERSIZED_BYTES)
async def test_oversized_bearer_token_is_refused_without_decoding(connect, observer, monkeypatch, size):
    """An 8 KB, 64 KB or 1 MB Authorization: Bearer token is refused before PyJWT sees it."""
    forbid_decoding(monkeypatch)
    headers = [*SITE_HEADERS, (b"authorization", b"Bearer " + b"a" * size)]
    await assert_refused(connect, observer, "/ws/rooms/general/", headers)


# Refusals for the ticket, the room, the user and the origin.


async def test_handshake_refused_without_token(connect, observer):
    """No token, no socket."""
    await assert_refused(connect, observer, "/ws/rooms/general/")


async def test_handshake_refused_for_malformed_token(connect, observer):
    """A token that is not a JWT is refused."""
    await assert_refused(connect, observer, "/ws/rooms/general/?token=not-a-jwt")


async def test_handshake_refused_for_token_signed_with_another_key(connect, observer, alice):
    """A forged signature is refused."""
    token = token_sign(claims_for(alice), key="another-key-that-is-long-enough-for-hs256!")
    await assert_refused(connect, observer, f"/ws/rooms/general/?token={token}")


async def test_handshake_refused_for_alg_none(connect, observer, alice):
    """An unsigned token (alg none) is refused."""
    token = jwt.encode(claims_for(alice), None, algorithm="none")
    await assert_refused(connect, observer, f"/ws/rooms/general/?token={token}")


async def test_handshake_refused_for_other_algorithm(connect, observer, alice, settings):
    """HS512 with the right key is still not our algorithm."""
    settings.CHAT_JWT_SECRET = "k" * 64  # long enough that PyJWT signs HS512 without a warning
    token = token_sign(claims_for(alice), algorithm="HS512")
    await assert_refused(connect, observer, f"/ws/rooms/general/?token={token}")


async def test_handshake_refused_for_expired_token(connect, observer, alice):
    """A token past its exp (and the leeway) is refused."""
    past = int(time.time()) - 120
    token = token_sign(claims_for(alice, iat=past, nbf=past, exp=past + 60))
    await assert_refused(connect, observer, f"/ws/rooms/general/?token={token}")


async def test_handshake_refused_for_token_not_yet_valid(connect, observer, alice):
    """A token whose nbf is in the future is refused."""
    token = token_sign(claims_for(alice, nbf=int(time.time()) + 300))
    await assert_refused(connect, observer, f"/ws/rooms/general/?token={token}")


async def test_handshake_refused_for_wrong_audience(connect, observer, alice):
    """A token for another audience is refused."""
    token = token_sign(claims_for(alice, aud="some.other.api"))
    await assert_refused(connect, observer, f"/ws/rooms/general/?token={token}")


async def test_handshake_refused_for_wrong_issuer(connect, observer, alice):
    """A token from another issuer is refused."""
    token = token_sign(claims_for(alice, iss="someone-else"))
    await assert_refused(connect, observer, f"/ws/rooms/general/?token={token}")


async def test_handshake_refused_for_token_of_another_room(connect, observer, alice):
    """A Sports token does not open General."""
    await assert_refused(connect, observer, f"/ws/rooms/general/?token={ticket(alice, 'sports')}")


async def test_handshake_refused_for_unknown_room(connect, observer, alice):
    """A room that does not exist cannot be joined, even with a matching token."""
    await assert_refused(connect, observer, f"/ws/rooms/nowhere/?token={ticket(alice, 'nowhere')}")


async def test_handshake_refused_for_archived_room(connect, observer, alice):
    """An archived room cannot be joined."""
    await database_sync_to_async(Room.objects.filter(slug="music").update)(archived=True)
    await assert_refused(connect, observer, f"/ws/rooms/music/?token={ticket(alice, 'music')}")


async def test_refused_handshakes_leave_nothing_behind(connect, observer, alice, settings):
    """Sockets refused for an archived room hold no place: not in the socket cap, not online."""
    settings.CHAT_MAX_SOCKETS_PER_USER = 1
    await database_sync_to_async(Room.objects.filter(slug="music").update)(archived=True)
    for _ in range(3):
        await assert_refused(connect, observer, f"/ws/rooms/music/?token={ticket(alice, 'music')}")

    _socket, welcome = await join(connect, alice, room="sports")

    assert welcome["type"] == "welcome"
    assert await online_ids("music") == []
    assert transport().hub.sockets("music") == []


async def test_handshake_refused_for_unknown_user(connect, observer, alice):
    """A token naming a user that does not exist is refused."""
    token = token_sign(claims_for(alice, sub="999999"))
    await assert_refused(connect, observer, f"/ws/rooms/general/?token={token}")


async def test_handshake_refused_for_inactive_user(connect, observer, alice):
    """A deactivated user's token no longer opens rooms."""
    token = ticket(alice)
    alice.is_active = False
    await database_sync_to_async(alice.save)()
    await assert_refused(connect, observer, f"/ws/rooms/general/?token={token}")


@pytest.mark.parametrize(
    "origin",
    [
        b"http://evil.example",
        b"http://testserver:8999",  # same host, other port: AllowedHostsOriginValidator would pass it
        b"https://testserver",  # same host, other scheme
        b"null",
    ],
)
async def test_handshake_refused_for_foreign_origin(connect, observer, alice, origin):
    """Only the site's own origin (scheme, host and port) may open sockets."""
    headers = [(b"origin", origin), (b"host", b"testserver")]
    await assert_refused(connect, observer, f"/ws/rooms/general/?token={ticket(alice)}", headers)


async def test_handshake_refused_without_origin(connect, observer, alice):
    """A handshake with no Origin header is refused."""
    headers = [(b"host", b"testserver")]
    await assert_refused(connect, observer, f"/ws/rooms/general/?token={ticket(alice)}", headers)


async def test_handshake_refused_for_host_not_allowed(connect, observer, alice):
    """A Host outside ALLOWED_HOSTS is refused even when Origin matches it."""
    headers = [(b"origin", b"http://evil.example"), (b"host", b"evil.example")]
    await assert_refused(connect, observer, f"/ws/rooms/general/?token={ticket(alice)}", headers)


async def test_unknown_websocket_path_is_refused(connect, alice):
    """A path that is not a room is refused, not an error."""
    _communicator, connected, _code = await connect(f"/ws/elsewhere/?token={ticket(alice)}")
    assert not connected


async def test_bearer_header_opens_the_room(connect, alice):
    """Non-browser clients may send the token as Authorization: Bearer."""
    headers = [*SITE_HEADERS, (b"authorization", f"Bearer {ticket(alice)}".encode())]
    communicator, connected, _code = await connect("/ws/rooms/general/", headers)
    assert connected
    welcome = await communicator.receive_json_from(timeout=TIMEOUT)
    assert welcome["user"] == {"id": alice.pk, "name": "Alice"}
