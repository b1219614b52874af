"""rooms.realtime.handshake.tickets: the JWT connect ticket, minted and checked in one place."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest

from rooms.realtime.handshake import tickets
from rooms.realtime.handshake.tickets import TokenError
from tests import factories

# 64 bytes: long enough for HS256 and for the HS512 forgery below without PyJWT key-length warnings.
SECRET = "s" * 32 + "e" * 32
OTHER_SECRET = "o" * 64
ISSUER = "lets-talk-tests"


@pytest.fixture(autouse=True)
def jwt_settings(settings):
    """Pin the signing key, issuer and lifetime these tests reason about."""
    settings.CHAT_JWT_SECRET = SECRET
    settings.CHAT_JWT_ISSUER = ISSUER
    settings.CHAT_JWT_TTL = 60
    return settings


def claims(**overrides) -> dict:
    """A valid claim set for user 7 in the general room, with overrides (None removes a claim)."""
    return factories.token_claims(**{"user_id": 7, "name": "Alice", **overrides})


def b64url(data: dict) -> str:
    """Base64url-encode a JSON object without padding, as JWT segments are."""
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def test_issued_token_decodes_to_the_same_user_and_room():
    """A token we mint opens the room for the user it was minted for."""
    token = tickets.issue(user_id=42, name="Zoë", room="music")

    ticket = tickets.decode(token)

    assert ticket.user_id == 42
    assert ticket.name == "Zoë"
    assert ticket.room == "music"
    assert ticket.jti


def test_issued_token_carries_the_spec_claims():
    """The token holds sub/name/room/aud/iss/iat/nbf/exp/jti and lives CHAT_JWT_TTL seconds."""
    token = tickets.issue(user_id=42, name="Alice", room="general", now=1_700_000_000)

    header = jwt.get_unverified_header(token)
    payload = jwt.decode(token, options={"verify_signature": False})

    assert header["alg"] == "HS256"
    assert set(payload) == {"sub", "name", "room", "aud", "iss", "iat", "nbf", "exp", "jti", "gen"}
    assert payload["gen"] == 0
    assert payload["sub"] == "42"
    assert payload["name"] == "Alice"
    assert payload["room"] == "general"
    assert payload["aud"] == "rooms.ws"
    assert payload["iss"] == ISSUER
    assert payload["iat"] == 1_700_000_000
    assert payload["nbf"] == payload["iat"]
    assert payload["exp"] == payload["iat"] + 60


def test_token_lifetime_follows_chat_jwt_ttl(jwt_settings):
    """A changed CHAT_JWT_TTL changes how long new tokens live."""
    jwt_settings.CHAT_JWT_TTL = 15

    payload = jwt.decode(
        tickets.issue(user_id=1, name="A", room="general"), options={"verify_signature": False}
    )

    assert payload["exp"] == payload["iat"] + 15


def test_each_token_has_its_own_jti():
    """Two tokens minted for the same user and room are told apart by jti."""
    first = tickets.decode(tickets.issue(user_id=1, name="A", room="general"))
    second = tickets.decode(tickets.issue(user_id=1, name="A", room="general"))

    assert first.jti != second.jti


def test_token_is_signed_with_chat_jwt_secret_not_secret_key(settings):
    """The ticket key is CHAT_JWT_SECRET; SECRET_KEY cannot verify it."""
    token = tickets.issue(user_id=1, name="A", room="general")

    jwt.decode(token, SECRET, algorithms=["HS256"], audience="rooms.ws")
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, settings.SECRET_KEY, algorithms=["HS256"], audience="rooms.ws")


def test_decode_accepts_a_token_just_inside_the_leeway():
    """A token that expired a second ago still passes: clocks drift a little."""
    token = tickets.issue(user_id=1, name="A", room="general", now=time.time() - 61)

    assert tickets.decode(token).user_id == 1


def test_decode_refuses_an_expired_token():
    """A token past exp (beyond the 5 s leeway) is refused."""
    token = tickets.issue(user_id=1, name="A", room="general", now=time.time() - 60 - 30)

    with pytest.raises(TokenError):
        tickets.decode(token)


def test_decode_refuses_a_token_not_yet_valid():
    """A token whose nbf is in the future is refused."""
    now = int(time.time())
    token = factories.token_sign(claims(iat=now, nbf=now + 120, exp=now + 180))

    with pytest.raises(TokenError):
        tickets.decode(token)


def test_decode_refuses_a_token_issued_in_the_future():
    """A token minted a minute from now (iat ahead of the clock) is refused."""
    token = tickets.issue(user_id=1, name="A", room="general", now=time.time() + 60)

    with pytest.raises(TokenError):
        tickets.decode(token)


def test_decode_refuses_the_wrong_audience():
    """A token meant for another audience cannot open a room."""
    with pytest.raises(TokenError):
        tickets.decode(factories.token_sign(claims(aud="api")))


def test_decode_refuses_a_list_valued_audience():
    """An aud list that merely contains rooms.ws is refused (strict audience)."""
    with pytest.raises(TokenError):
        tickets.decode(factories.token_sign(claims(aud=["rooms.ws", "api"])))


@pytest.mark.parametrize("generation", ["1", True, 1.5, [1]])
def test_decode_refuses_a_generation_that_is_not_a_whole_number(generation):
    """The gen claim is compared with the user's ticket generation: only a whole number will do."""
    with pytest.raises(TokenError):
        tickets.decode(factories.token_sign(claims(gen=generation)))


def test_decode_refuses_the_wrong_issuer():
    """A token from another issuer is refused."""
    with pytest.raises(TokenError):
        tickets.decode(factories.token_sign(claims(iss="someone-else")))


def test_decode_refuses_a_token_signed_with_another_key():
    """A token signed with any key but CHAT_JWT_SECRET is refused."""
    with pytest.raises(TokenError):
        tickets.decode(factories.token_sign(claims(), key=OTHER_SECRET))


def test_decode_refuses_a_token_signed_with_secret_key(settings):
    """A token signed with Django's SECRET_KEY is refused: the keys are separate."""
    with pytest.raises(TokenError):
        tickets.decode(factories.token_sign(claims(), key=settings.SECRET_KEY))


def test_decode_refuses_an_unsigned_alg_none_token():
    """An unsigned token (alg none) is refused."""
    unsigned = f"{b64url({'alg': 'none', 'typ': 'JWT'})}.{b64url(claims())}."

    with pytest.raises(TokenError):
        tickets.decode(unsigned)


def test_decode_refuses_hs512_even_with_the_right_key():
    """The algorithm is pinned to HS256: HS512 with the right key is refused."""
    with pytest.raises(TokenError):
        tickets.decode(factories.token_sign(claims(), algorithm="HS512"))


@pytest.mark.parametrize("claim", ["exp", "iat", "aud", "iss", "sub", "room"])
def test_decode_refuses_a_token_missing_a_required_claim(claim):
    """Each of exp, iat, aud, iss, sub and room is required."""
    token = factories.token_sign(claims(**{claim: None}))

    with pytest.raises(TokenError):
        tickets.decode(token)


def test_decode_refuses_a_non_numeric_subject():
    """A sub that is not a user id is refused."""
    with pytest.raises(TokenError):
        tickets.decode(factories.token_sign(claims(sub="alice")))


def test_decode_refuses_a_non_string_room():
    """A room claim that is not a slug string is refused."""
    with pytest.raises(TokenError):
        tickets.decode(factories.token_sign(claims(room=["general"])))


@pytest.mark.parametrize("garbage", ["", "not-a-token", "a.b.c", "eyJhbGciOiJIUzI1NiJ9..", "...."])
def test_decode_refuses_garbage(garbage):
    """Strings that are not JWTs raise TokenError, not something else."""
    with pytest.raises(TokenError):
        tickets.decode(garbage)


def test_decode_refuses_an_oversized_token_even_when_well_signed():
    """A token longer than MAX_TOKEN_BYTES is refused before it is verified."""
    token = factories.token_sign(claims(name="x" * tickets.MAX_TOKEN_BYTES))
    assert len(token) > tickets.MAX_TOKEN_BYTES

    with pytest.raises(TokenError):
        tickets.decode(token)
