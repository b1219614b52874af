"""What a message's text says beyond its words: who it mentions; what a reaction may be."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

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


# The status emoji-test.txt gives the form of an emoji meant for interchange (the emoji package's STATUS).
FULLY_QUALIFIED = 2
VARIATION_SELECTOR_16 = "\ufe0f"


def _emoji_statuses() -> dict[str, int]:
    """Every emoji the emoji package knows, with its status: its EMOJI_DATA without names and aliases.

    Read from the package's data file rather than by importing it: its
    EMOJI_DATA keeps every emoji's names and aliases as well, 6.6 MB of each
    server process's memory (measured) to tell whether a reaction is one emoji.
    """
    spec = importlib.util.find_spec("emoji")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("the emoji package is not installed")
    data = Path(spec.submodule_search_locations[0]) / "unicode_codes" / "emoji.json"
    with data.open(encoding="utf-8") as file:
        return {emoji: entry["status"] for emoji, entry in json.load(file).items()}


EMOJI_STATUS = _emoji_statuses()


def reaction_clean_emoji(value: str) -> str:
    """The emoji, or InvalidEmoji: a reaction is exactly one emoji (any skin tone, flag or sequence).

    Typed without its variation selector (U+2764 for ❤️), an emoji is given
    its fully-qualified form, so that both count as one reaction.
    """
    value = value.strip()
    status = EMOJI_STATUS.get(value) if value and len(value) <= EMOJI_MAX_LENGTH else None
    if status is None:
        raise InvalidEmoji()
    if status != FULLY_QUALIFIED and EMOJI_STATUS.get(value + VARIATION_SELECTOR_16) == FULLY_QUALIFIED:
        return value + VARIATION_SELECTOR_16
    return value
