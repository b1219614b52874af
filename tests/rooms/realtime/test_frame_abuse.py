"""Hostile frames on an open socket: each gets an error frame, nothing is stored, the socket keeps working.

tests/rooms/realtime/test_consumer.py covers the everyday mistakes (not JSON, wrong
type, empty); these are what a fuzzer or an attacker sends.
"""

from __future__ import annotations

import pytest

from tests.rooms.sockets import TIMEOUT, join, message_count, send_text

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

DEPTH = 2000  # past Python's recursion limit, inside CHAT_MAX_FRAME_BYTES


@pytest.mark.parametrize(
    "frame",
    [
        pytest.param(b'{"type": "message", "text": "hi"}', id="binary"),
        pytest.param('{"a":' * DEPTH + "1" + "}" * DEPTH, id="deeply-nested-objects"),
        pytest.param('{"type": "message", "text": ' + "[" * DEPTH + "]" * DEPTH + "}", id="nested-text"),
        pytest.param('{"type": "message", "text": "hi", "client_id": ' + "9" * 5000 + "}", id="huge-integer"),
        pytest.param('{"type": "message", "text": {"$gt": ""}}', id="text-object"),
        pytest.param('{"type": "message", "text": null}', id="text-null"),
        pytest.param('{"type": "message", "text": ["hi"]}', id="text-list"),
        pytest.param('{"type": ["message"], "text": "hi"}', id="type-list"),
        pytest.param(
            '{"type": "message", "text": "hi", "client_id": "' + "c" * 65 + '"}', id="long-client-id"
        ),
        pytest.param('{"type": "message", "text": "hi", "client_id": ["c"]}', id="client-id-list"),
        pytest.param('"message"', id="json-string"),
        pytest.param("NaN", id="json-nan"),
    ],
)
async def test_hostile_frame_gets_an_error_stores_nothing_and_the_socket_stays_open(
    connect, alice, bob, frame
):
    """Binary, deeply nested, oversized numbers, wrong types: an error frame, and the socket goes on."""
    await assert_error_and_socket_still_works(connect, alice, bob, frame)


@pytest.mark.parametrize(
    "frame",
    [
        pytest.param('{"type": "message", "text": "a\\ud800b"}', id="lone-surrogate-in-text"),
        pytest.param('{"type": "message", "text": "hi", "client_id": "\\udfff"}', id="lone-surrogate-in-id"),
        pytest.param('{"type": "message", "text": "a\\u0000b"}', id="nul-in-text"),
        pytest.param('{"type": "message", "text": "hi", "client_id": "c\\u0000"}', id="nul-in-client-id"),
    ],
)
async def test_unstorable_text_gets_an_error_not_a_server_error(connect, alice, bob, frame):
    """Lone surrogates and NUL cannot be stored (UTF-8, PostgreSQL): refused like any bad frame, not 4011."""
    await assert_error_and_socket_still_works(connect, alice, bob, frame)


async def assert_error_and_socket_still_works(connect, alice, bob, frame: str | bytes) -> None:
    """`frame` gets an error frame; nobody hears anything, nothing is stored, the next message works."""
    socket, _ = await join(connect, alice)
    listener, _ = await join(connect, bob)
    await socket.receive_json_from(timeout=TIMEOUT)  # bob joined

    if isinstance(frame, bytes):
        await socket.send_to(bytes_data=frame)
    else:
        await socket.send_to(text_data=frame)

    answer = await socket.receive_output(timeout=TIMEOUT)
    assert answer["type"] == "websocket.send", f"the socket was closed: {answer}"
    assert '"type":"error"' in answer["text"].replace(" ", "")
    assert await listener.receive_nothing(timeout=0.2)
    assert await message_count() == 0

    await send_text(socket, "still here")
    assert (await socket.receive_json_from(timeout=TIMEOUT))["text"] == "still here"
    assert (await listener.receive_json_from(timeout=TIMEOUT))["text"] == "still here"
    assert await message_count() == 1
