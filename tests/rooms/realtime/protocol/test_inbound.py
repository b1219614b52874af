"""rooms.realtime.protocol.inbound: what a client may send, and what it may not."""

from __future__ import annotations

import json

import pytest

from rooms.exceptions import InvalidFrame, InvalidJson
from rooms.realtime.protocol.inbound import CLIENT_ID_MAX_LENGTH, ClientMessage, parse_client_frame


def test_parses_a_valid_message_frame():
    """A well-formed message frame gives its text and client_id."""
    raw = json.dumps({"type": "message", "text": "hello", "client_id": "abc-123"})

    assert parse_client_frame(raw) == ClientMessage(text="hello", client_id="abc-123")


def test_client_id_is_optional():
    """A frame without client_id is accepted with an empty client_id."""
    assert parse_client_frame('{"type": "message", "text": "hi"}') == ClientMessage(text="hi", client_id="")


def test_null_client_id_counts_as_absent():
    """client_id null (what the server itself shows for none) is accepted as no client_id."""
    parsed = parse_client_frame('{"type": "message", "text": "hi", "client_id": null}')

    assert parsed.client_id == ""


def test_client_id_of_the_maximum_length_is_accepted():
    """A client_id of exactly CLIENT_ID_MAX_LENGTH characters is fine."""
    client_id = "x" * CLIENT_ID_MAX_LENGTH

    parsed = parse_client_frame(json.dumps({"type": "message", "text": "hi", "client_id": client_id}))

    assert parsed.client_id == client_id


def test_text_is_passed_on_unstripped_for_the_service_to_judge():
    """Parsing checks shape only; stripping and length are the service's job."""
    assert parse_client_frame('{"type": "message", "text": "  hi  "}').text == "  hi  "


@pytest.mark.parametrize("raw", ["", "hello", "{", '{"type": "message",}', "{'type': 'message'}", "\x00"])
def test_text_that_is_not_json_is_invalid_json(raw):
    """A frame that does not parse as JSON raises InvalidJson."""
    with pytest.raises(InvalidJson):
        parse_client_frame(raw)


@pytest.mark.parametrize("raw", ["[]", '"message"', "42", "null", "true", '[{"type": "message"}]'])
def test_json_that_is_not_an_object_is_invalid_frame(raw):
    """JSON that is not an object raises InvalidFrame."""
    with pytest.raises(InvalidFrame):
        parse_client_frame(raw)


@pytest.mark.parametrize(
    "frame",
    [
        {"text": "hi"},
        {"type": "whisper", "text": "hi"},
        {"type": "MESSAGE", "text": "hi"},
        {"type": None, "text": "hi"},
    ],
)
def test_frame_of_another_type_is_invalid_frame(frame):
    """Only {"type": "message"} frames are understood."""
    with pytest.raises(InvalidFrame):
        parse_client_frame(json.dumps(frame))


@pytest.mark.parametrize("text", [None, 42, ["hi"], {"hi": 1}, True])
def test_text_that_is_not_a_string_is_invalid_frame(text):
    """A message whose text is missing or not a string raises InvalidFrame."""
    frame = {"type": "message", "client_id": "a"}
    if text is not None:
        frame["text"] = text

    with pytest.raises(InvalidFrame):
        parse_client_frame(json.dumps(frame))


@pytest.mark.parametrize("client_id", [123, 1.5, ["a"], {"a": 1}, True, False, 0])
def test_client_id_that_is_not_a_string_is_invalid_frame(client_id):
    """A client_id of any other JSON type raises InvalidFrame."""
    with pytest.raises(InvalidFrame):
        parse_client_frame(json.dumps({"type": "message", "text": "hi", "client_id": client_id}))


def test_client_id_longer_than_the_maximum_is_invalid_frame():
    """A client_id over CLIENT_ID_MAX_LENGTH characters raises InvalidFrame."""
    client_id = "x" * (CLIENT_ID_MAX_LENGTH + 1)

    with pytest.raises(InvalidFrame):
        parse_client_frame(json.dumps({"type": "message", "text": "hi", "client_id": client_id}))


@pytest.mark.parametrize("raw", ["[" * 100_000, '{"a":' * 100_000, "[" * 100_000 + "]" * 100_000])
def test_deeply_nested_json_is_refused_without_crashing(raw):
    """Pathologically nested JSON is refused as a bad frame, not a crash."""
    with pytest.raises((InvalidJson, InvalidFrame)):
        parse_client_frame(raw)


def test_errors_carry_their_machine_codes():
    """The raised errors carry the codes the error frame shows."""
    with pytest.raises(InvalidJson) as bad_json:
        parse_client_frame("nope")
    with pytest.raises(InvalidFrame) as bad_frame:
        parse_client_frame("[]")

    assert bad_json.value.code == "invalid_json"
    assert bad_frame.value.code == "invalid_frame"
