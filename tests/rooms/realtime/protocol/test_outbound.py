"""rooms.realtime.protocol.outbound: server-to-client frames are plain, JSON-safe dicts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from rooms.realtime.protocol import outbound


def message_frame(**overrides) -> outbound.Frame:
    """A message frame with plausible values."""
    fields = {
        "message_id": 12,
        "room": "general",
        "user_id": 3,
        "user_name": "Alice",
        "text": "hello",
        "sent_at": "2024-05-01T12:00:00.000Z",
        "client_id": "0b5c2c1e-6f7a-4b8e-9a51-1d2f3e4a5b6c",
        "seq": 40,
    }
    fields.update(overrides)
    return outbound.message(**fields)


ALICE = outbound.member(user_id=3, name="Alice")

FRAMES = {
    "member": ALICE,
    "message": message_frame(),
    "message_without_client_id": message_frame(client_id=""),
    "welcome": outbound.welcome(
        room={"slug": "general", "name": "General"},
        user=ALICE,
        users=[ALICE, outbound.member(user_id=4, name="Bob")],
        history=[message_frame(), message_frame(message_id=13, text="again")],
    ),
    "welcome_empty_room": outbound.welcome(
        room={"slug": "music", "name": "Music"}, user=ALICE, users=[], history=[]
    ),
    "welcome_after_a_long_absence": outbound.welcome(
        room={"slug": "music", "name": "Music"}, user=ALICE, users=[], history=[], has_more=True
    ),
    "welcome_recovered": outbound.welcome(
        room={"slug": "music", "name": "Music"},
        user=ALICE,
        users=[],
        history=[],
        seq=41,
        epoch="e1",
        recovered=True,
        events=[message_frame(), outbound.message_deleted(11, seq=41)],
    ),
    "welcome_not_recovered": outbound.welcome(
        room={"slug": "music", "name": "Music"},
        user=ALICE,
        users=[],
        history=[message_frame()],
        seq=41,
        epoch="e2",
        recovered=False,
    ),
    "position": outbound.position(seq=41, epoch="e1"),
    "user_joined": outbound.user_joined(ALICE),
    "user_left": outbound.user_left(ALICE),
    "message_deleted": outbound.message_deleted(12, seq=41),
    "message_deleted_to_sender": outbound.message_deleted(12, seq=41, client_id="c-1"),
    "room_closed": outbound.room_closed(),
    "error": outbound.error(code="too_long", detail="That message is too long."),
}


@pytest.mark.parametrize("frame", list(FRAMES.values()), ids=list(FRAMES))
def test_frame_round_trips_through_the_wire_unchanged(frame):
    """Encoding a frame and parsing it back gives the same frame."""
    assert json.loads(outbound.encode(frame)) == frame


def test_message_frame_has_exactly_the_spec_keys():
    """A message frame carries type, id, room, user, text, sent_at, client_id, seq and mentions, nothing else.

    (reactions and edited_at join them only once a message has some, or was edited.)
    """
    frame = message_frame()

    assert set(frame) == {"type", "id", "room", "user", "text", "sent_at", "client_id", "seq", "mentions"}
    assert frame["type"] == "message"
    assert frame["user"] == {"id": 3, "name": "Alice"}


def test_message_frame_without_client_id_says_null():
    """A message sent without a client_id shows client_id null."""
    assert message_frame(client_id="")["client_id"] is None


def test_frame_types_match_the_spec():
    """Each builder names its frame as the protocol does."""
    assert FRAMES["welcome"]["type"] == "welcome"
    assert FRAMES["welcome"]["has_more"] is False
    assert FRAMES["welcome_after_a_long_absence"]["has_more"] is True
    assert FRAMES["user_joined"] == {"type": "user_joined", "user": {"id": 3, "name": "Alice"}}
    assert FRAMES["user_left"] == {"type": "user_left", "user": {"id": 3, "name": "Alice"}}
    assert FRAMES["message_deleted"] == {"type": "message_deleted", "id": 12, "seq": 41}
    assert FRAMES["message_deleted_to_sender"] == {
        "type": "message_deleted",
        "id": 12,
        "seq": 41,
        "client_id": "c-1",
    }
    assert FRAMES["position"] == {"type": "position", "seq": 41, "epoch": "e1"}
    assert FRAMES["welcome_recovered"]["recovered"] is True
    assert [event["seq"] for event in FRAMES["welcome_recovered"]["events"]] == [40, 41]
    assert "events" not in FRAMES["welcome_not_recovered"]
    assert FRAMES["room_closed"] == {"type": "room_closed"}
    assert FRAMES["error"] == {"type": "error", "code": "too_long", "detail": "That message is too long."}


def test_iso_utc_converts_to_utc_with_a_z_suffix():
    """A time in another zone is written in UTC, milliseconds, ending in Z."""
    moment = datetime(2024, 1, 2, 3, 4, 5, 678901, tzinfo=timezone(timedelta(hours=2)))

    assert outbound.iso_utc(moment) == "2024-01-02T01:04:05.678Z"


def test_iso_utc_parses_back_to_the_same_instant():
    """The written time names the same instant (to the millisecond)."""
    moment = datetime(2024, 6, 30, 23, 59, 59, 999000, tzinfo=UTC)

    written = outbound.iso_utc(moment)

    assert written.endswith("Z")
    assert "+" not in written
    assert datetime.fromisoformat(written.replace("Z", "+00:00")) == moment


def test_encode_keeps_non_ascii_text_as_is():
    """Accents, scripts and emoji travel as themselves, not as \\u escapes."""
    text = "Grüße, Zoë — こんにちは 👋"

    encoded = outbound.encode(message_frame(text=text))

    assert text in encoded
    assert "\\u" not in encoded


def test_encode_keeps_markup_as_plain_text():
    """Markup in a message is data: it survives encoding unchanged for the page to insert as text."""
    text = "<img src=x onerror=alert(1)>"

    assert json.loads(outbound.encode(message_frame(text=text)))["text"] == text


@pytest.mark.parametrize("name", ["General", 'Sneaky "users":[],"history":[] room', "Ünïcode ✓ \u2028"])
@pytest.mark.parametrize("has_more", [False, True])
def test_welcome_from_encoded_lists_is_the_same_frame(name, has_more):
    """A welcome spliced from encoded member and history lists parses to the very same frame."""
    users = [ALICE, outbound.member(user_id=4, name=name)]
    history = [message_frame(text=name)]
    frame = outbound.welcome(
        room={"slug": "general", "name": name}, user=ALICE, users=users, history=history, has_more=has_more
    )

    text = outbound.encode_welcome(
        room={"slug": "general", "name": name},
        user=ALICE,
        users=outbound.encode(users),
        history=outbound.encode(history),
        has_more=has_more,
    )

    assert text == outbound.encode(frame)


@pytest.mark.parametrize("recovered", [None, False, True])
def test_welcome_with_the_logs_position_and_events_is_the_same_frame(recovered):
    """The seq, epoch, recovered flag and spliced events of a resume encode as welcome() builds them."""
    events = [message_frame(), outbound.message_deleted(11, seq=41)] if recovered else None
    history = [] if recovered else [message_frame()]
    fields = {"room": {"slug": "general", "name": "General"}, "user": ALICE, "seq": 41, "epoch": "e1"}
    frame = outbound.welcome(**fields, users=[ALICE], history=history, recovered=recovered, events=events)

    text = outbound.encode_welcome(
        **fields,
        users=outbound.encode([ALICE]),
        history=outbound.encode(history),
        recovered=recovered,
        events=None if events is None else outbound.encode(events),
    )

    assert text == outbound.encode(frame)
