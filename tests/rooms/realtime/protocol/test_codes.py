"""rooms.realtime.protocol.codes: the close and error codes, the same on both ends of the wire."""

from __future__ import annotations

import re
from pathlib import Path

from rooms import exceptions
from rooms.realtime.protocol.codes import CloseCode

PROTOCOL_JS = Path(__file__).resolve().parents[4] / "static" / "js" / "room" / "protocol.js"


def js_constants(name: str) -> dict[str, str]:
    """The entries of `export const <name> = Object.freeze({...})` in the room page's protocol module."""
    block = re.search(rf"export const {name} = Object\.freeze\(\{{(.*?)\}}\);", PROTOCOL_JS.read_text(), re.S)
    assert block, f"{PROTOCOL_JS} has no {name}"
    return dict(re.findall(r"^\s*([A-Z_]+): ('?[\w]+'?),", block.group(1), re.M))


def error_codes() -> set[str]:
    """Every `code` an error frame can carry: one per domain error."""
    errors = [value for value in vars(exceptions).values() if isinstance(value, type)]
    return {
        error.code for error in errors if issubclass(error, exceptions.ChatError) and error.code != "error"
    }


def test_the_room_page_knows_every_close_code_by_the_same_name():
    """static/js/room/protocol.js's CLOSE is exactly CloseCode: same names, same numbers."""
    assert js_constants("CLOSE") == {code.name: str(code.value) for code in CloseCode}


def test_the_room_page_knows_every_error_code():
    """static/js/room/protocol.js's ERROR lists every code an error frame can carry."""
    assert {value.strip("'") for value in js_constants("ERROR").values()} == error_codes()


def test_close_codes_are_ones_daphne_lets_an_application_send():
    """daphne allows only 1000 and 3000-4999 from an application (README "WebSocket protocol")."""
    assert all(3000 <= code <= 4999 for code in CloseCode)
