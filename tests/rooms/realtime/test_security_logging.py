"""What the WebSocket logs say: never a token; every refused handshake with its reason (and user, when known).

The access log of a real daphne is checked in tests/integration/test_server_transport.py,
moderation and sign-out records in tests/rooms/test_audit_logging.py.
"""

from __future__ import annotations

import logging
import secrets
import time

import pytest
from channels.db import database_sync_to_async

from rooms.models import Room
from tests.factories import token_sign
from tests.rooms.sockets import SITE_HEADERS, TIMEOUT, claims_for, send_text, ticket

GENERAL = "/ws/rooms/general/?token="
LOGGED = (logging.INFO, logging.WARNING)
FOREIGN_ORIGIN = [(b"origin", b"http://evil.example"), (b"host", b"testserver")]

# serialized_rollback: keep the seeded rooms that a transactional flush would wipe.
pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def assert_not_logged(caplog, token: str) -> None:
    """Neither the token nor its signature is in any record: message, arguments, extras or traceback."""
    assert caplog.records, "nothing was logged: the check would prove nothing"
    secret_parts = {token, token.rsplit(".", 1)[-1]} - {""}
    for record in caplog.records:
        everything = f"{record.getMessage()} {record.__dict__!r}"
        for part in secret_parts:
            assert part not in everything, f"{record.name} logged the token: {record.getMessage()}"
    for part in secret_parts:
        assert part not in caplog.text


def handshakes(alice) -> dict[str, tuple[str, list | None, bool]]:
    """name -> (path, headers, accepted): accepted and refused handshakes, each with a token in it."""
    now = int(time.time())
    expired = token_sign(claims_for(alice, iat=now - 120, nbf=now - 120, exp=now - 60))
    forged = token_sign(claims_for(alice), key=secrets.token_urlsafe(48))
    garbage = "not-a-jwt-" + secrets.token_urlsafe(24)
    bearer = [*SITE_HEADERS, (b"authorization", f"Bearer {ticket(alice)}".encode())]
    return {
        "accepted": (GENERAL + ticket(alice), None, True),
        "accepted-bearer": ("/ws/rooms/general/", bearer, True),
        "other-room": (GENERAL + ticket(alice, "sports"), None, False),
        "expired": (GENERAL + expired, None, False),
        "forged": (GENERAL + forged, None, False),
        "wrong-audience": (GENERAL + token_sign(claims_for(alice, aud="api")), None, False),
        "garbage": (GENERAL + garbage, None, False),
        "oversized": (GENERAL + token_sign(claims_for(alice, jti="j" * 4096)), None, False),
        "unknown-user": (GENERAL + token_sign(claims_for(alice, sub="999999")), None, False),
        "unknown-room": ("/ws/rooms/nowhere/?token=" + ticket(alice, "nowhere"), None, False),
        "foreign-origin": (GENERAL + ticket(alice), FOREIGN_ORIGIN, False),
    }


def token_in(path: str, headers: list | None) -> str:
    if "token=" in path:
        return path.split("token=", 1)[1]
    return dict(headers)[b"authorization"].decode().removeprefix("Bearer ")


@pytest.mark.parametrize(
    "case",
    [
        "accepted",
        "accepted-bearer",
        "other-room",
        "expired",
        "forged",
        "wrong-audience",
        "garbage",
        "oversized",
        "unknown-user",
        "unknown-room",
        "foreign-origin",
    ],
)
async def test_no_log_record_ever_holds_the_token(connect, alice, caplog, case):
    """Accepted or refused, through the query string or a Bearer header: the token is in no log line."""
    caplog.set_level(logging.DEBUG)
    path, headers, accepted = handshakes(alice)[case]
    socket, connected, _code = await connect(path, headers)
    assert connected is accepted
    if accepted:
        await socket.receive_json_from(timeout=TIMEOUT)  # welcome
        await send_text(socket, "hello")
        await socket.receive_json_from(timeout=TIMEOUT)
        await socket.send_to(text_data="x" * 20_000)  # closed with 4009, which is logged
        assert (await socket.receive_output(timeout=TIMEOUT))["code"] == 4009
    assert_not_logged(caplog, token_in(path, headers))


def refusals(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "rooms.ws" and "refused" in r.getMessage()]


async def assert_refusal_logged(connect, caplog, path, headers, *, says: list[str]) -> None:
    """The handshake is refused and one rooms.ws record, at INFO or WARNING, says why (and who)."""
    caplog.set_level(logging.INFO, logger="rooms.ws")
    _socket, connected, _code = await connect(path, headers)
    assert not connected
    (record,) = refusals(caplog)
    assert record.levelno in LOGGED
    for words in says:
        assert words in record.getMessage()


@pytest.mark.parametrize(
    ("case", "says"),
    [
        ("no-token", ["no token", "/ws/rooms/general/"]),
        ("expired", ["bad token", "expired"]),
        ("forged", ["bad token", "Signature verification failed"]),
        ("wrong-audience", ["bad token", "Audience"]),
        ("oversized", ["bad token", "too large"]),
    ],
)
async def test_refused_bad_token_is_logged_with_the_reason(connect, alice, caplog, case, says):
    """A token that does not verify is logged with what is wrong with it (and no user: it proves nobody)."""
    path = "/ws/rooms/general/" if case == "no-token" else handshakes(alice)[case][0]
    await assert_refusal_logged(connect, caplog, path, None, says=says)


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("other-room", "token for 'sports' used on 'general'"),
        ("unknown-room", "room 'nowhere' unknown or archived"),
    ],
)
async def test_refused_valid_token_is_logged_with_the_reason_and_the_user(
    connect, alice, caplog, case, reason
):
    """A good token used where it does not belong is logged with the reason and the user's id."""
    path, headers, _accepted = handshakes(alice)[case]
    await assert_refusal_logged(connect, caplog, path, headers, says=[reason, f"user {alice.pk}"])


async def test_refused_inactive_user_is_logged_with_the_user(connect, alice, caplog):
    """A deactivated user's token is refused and logged with the user's id."""
    token = ticket(alice)
    alice.is_active = False
    await database_sync_to_async(alice.save)()
    await assert_refusal_logged(
        connect, caplog, GENERAL + token, None, says=[f"user {alice.pk}", "unknown or inactive"]
    )


async def test_refused_archived_room_is_logged_with_the_room_and_the_user(connect, alice, caplog):
    """Joining an archived room is refused and logged with the room and the user's id."""
    await database_sync_to_async(Room.objects.filter(slug="music").update)(archived=True)
    path = "/ws/rooms/music/?token=" + ticket(alice, "music")
    await assert_refusal_logged(
        connect, caplog, path, None, says=["'music' unknown or archived", f"user {alice.pk}"]
    )


async def test_refused_foreign_origin_is_logged_as_a_warning_with_the_origin(connect, alice, caplog):
    """A handshake from another site is a WARNING naming that origin and the Host it claimed."""
    await assert_refusal_logged(
        connect,
        caplog,
        GENERAL + ticket(alice),
        FOREIGN_ORIGIN,
        says=["'http://evil.example'", "'testserver'"],
    )
    assert refusals(caplog)[0].levelno == logging.WARNING


async def test_refused_socket_over_the_cap_is_logged_as_a_warning_with_the_user(
    connect, alice, caplog, settings
):
    """One socket past CHAT_MAX_SOCKETS_PER_USER is a WARNING naming the user."""
    settings.CHAT_MAX_SOCKETS_PER_USER = 1
    first, connected, _code = await connect(GENERAL + ticket(alice))
    assert connected
    await first.receive_json_from(timeout=TIMEOUT)
    await assert_refusal_logged(connect, caplog, GENERAL + ticket(alice), None, says=[f"user {alice.pk}"])
    assert refusals(caplog)[0].levelno == logging.WARNING
