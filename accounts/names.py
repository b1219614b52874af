"""Names people can tell apart: a name's key, and a handle for a name someone else holds.

Two names clash when their keys are equal: the same after Unicode NFKC
(full-width and ligature forms fold to plain ones), with every character
that draws nothing removed (zero-width spaces, bidi marks, fillers, spaces)
and case folded. So "Alice", "ALICE", "Al\u200bice" and a full-width Alice clash.
"""

from __future__ import annotations

import unicodedata

from chatsite.text import char_is_invisible

NAME_MAX_LENGTH = 150
# A handle longer than this is cut: the name it follows must still show.
HANDLE_MAX_LENGTH = 40


def name_key(name: str) -> str:
    """What a name looks like, for comparing it with others."""
    folded = unicodedata.normalize("NFKC", name)
    visible = "".join(char for char in folded if not char_is_invisible(char))
    return unicodedata.normalize("NFKC", visible.casefold())


def name_with_handle(name: str, handle: str) -> str:
    """`name` followed by a handle that tells its holder apart: "Alice (alice.w)"."""
    suffix = f" ({handle[:HANDLE_MAX_LENGTH]})"
    return name[: NAME_MAX_LENGTH - len(suffix)] + suffix
