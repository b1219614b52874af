"""What a message's text says beyond its words: who it mentions; what a reaction may be."""

from __future__ import annotations

import re

import emoji

from rooms.exceptions import InvalidEmoji

# `@handle`, a handle being a username (Django allows letters, digits and
# @.+-_). Not after a word character: "bob@example.com" mentions no one.
MENTION = re.compile(r"(?<![\w@])@([\w.+@-]+)")
# A message that names more people than this mentions the first ones only.
MENTIONS_MAX = 50
# The longest emoji sequences (a family with skin tones) are 10 code points; 32 is ample.
EMOJI_MAX_LENGTH = 32


def mentioned_handles(text: str) -> list[str]:
    """The handles `text` mentions with @handle, lower-cased, first mention first, each once."""
    if "@" not in text:  # nearly every message: no regex run at all
        return []
    handles: dict[str, None] = {}
    for match in MENTION.finditer(text):
        # "@bob." and "@bob," end a sentence, not the handle.
        handle = match.group(1).rstrip(".-+@").lower()
        if handle:
            handles.setdefault(handle)
        if len(handles) >= MENTIONS_MAX:
            break
    return list(handles)


FULLY_QUALIFIED = emoji.STATUS["fully_qualified"]
VARIATION_SELECTOR_16 = "\ufe0f"


def reaction_clean_emoji(value: str) -> str:
    """The emoji, or InvalidEmoji: a reaction is exactly one emoji (any skin tone, flag or sequence).

    Typed without its variation selector (U+2764 for ❤️), an emoji is given
    its fully-qualified form, so that both count as one reaction.
    """
    value = value.strip()
    if not value or len(value) > EMOJI_MAX_LENGTH or not emoji.is_emoji(value):
        raise InvalidEmoji()
    if emoji.EMOJI_DATA[value]["status"] != FULLY_QUALIFIED:
        qualified = value + VARIATION_SELECTOR_16
        if emoji.EMOJI_DATA.get(qualified, {}).get("status") == FULLY_QUALIFIED:
            return qualified
    return value
