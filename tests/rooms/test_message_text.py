"""rooms.message_text: what counts as one emoji is what the emoji package says."""

from __future__ import annotations

import emoji

from rooms import message_text


def test_the_emoji_known_and_their_status_are_the_emoji_packages():
    """Read from its data file, the emoji and their statuses equal the package's own EMOJI_DATA."""
    assert emoji.STATUS["fully_qualified"] == message_text.FULLY_QUALIFIED
    assert {value: data["status"] for value, data in emoji.EMOJI_DATA.items()} == message_text.EMOJI_STATUS


def test_a_heart_typed_without_its_variation_selector_is_the_heart_emoji():
    """U+2764 alone and U+2764 U+FE0F are one reaction: the fully-qualified form."""
    assert message_text.reaction_clean_emoji("\u2764") == "\u2764\ufe0f"
    assert message_text.reaction_clean_emoji(" \u2764\ufe0f ") == "\u2764\ufe0f"
