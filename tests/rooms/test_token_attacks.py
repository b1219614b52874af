"""Forged and misused room tokens, through the real handshake: refused, nothing stored, nothing broadcast.

tests/rooms/test_tokens.py checks rooms.tokens.decode on its own; these send
each attack through chatsite.asgi.application as a client would.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest
import pytest_asyncio
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.conf import settings

from rooms import tokens
from tests.factories import token_sign
from tests.oidc_provider import OpenIDProvider
from tests.rooms.conftest import SITE_HEADERS
from tests.rooms.test_consumers import assert_refused, claims_for, join

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

GENERAL = "/ws/rooms/general/?token="
# Our tokens are ~300 bytes; these are what a hostile client might send instead.
OVERSIZED_BYTES = [8 * 1024, 64 * 1024, 1024 * 1024]


@pytest.fixture(scope="module")
def provider_keys() -> OpenIDProvider:
    """An OpenID provider's keys and client secret (not served: only its signing is used)."""
    return OpenIDProvider()


@pytest_asyncio.fixture
async def observer(connect, bob):
    """Bob, sitting in General, to prove refused handshakes broadcast nothing."""
    communicator, _welcome = await join(connect, bob)
    return communicator


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


@pytest.mark.parametrize("claim", tokens.REQUIRED_CLAIMS)
async def test_handshake_refused_for_a_token_missing_a_required_claim(connect, observer, alice, claim):
    """Without any one of exp, iat, aud, iss, sub and room, a well-signed token is refused."""
    await assert_refused(connect, observer, GENERAL + token_sign(claims_for(alice, **{claim: None})))


async def test_handshake_accepted_just_inside_the_leeway(connect, alice):
    """A token that expired a moment ago, within LEEWAY_SECONDS, still opens the room (clock drift)."""
    now = int(time.time())
    exp = now - tokens.LEEWAY_SECONDS + 3  # 3 s of the leeway left when it is checked
    token = token_sign(claims_for(alice, iat=now - 60, nbf=now - 60, exp=exp))
    _socket, connected, _code = await connect(GENERAL + token)
    assert connected


async def test_handshake_refused_just_outside_the_leeway(connect, observer, alice):
    """A token that expired more than LEEWAY_SECONDS ago is refused."""
    now = int(time.time())
    exp = now - tokens.LEEWAY_SECONDS - 1
    token = token_sign(claims_for(alice, iat=now - 60, nbf=now - 60, exp=exp))
    await assert_refused(connect, observer, GENERAL + token)


@pytest.mark.parametrize(
    "audience",
    [[tokens.AUDIENCE], [tokens.AUDIENCE, "other.api"], "rooms", "rooms.ws.evil", ""],
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
