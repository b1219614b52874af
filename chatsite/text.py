"""What Unicode text shows: shared by messages (rooms) and names (accounts).

`str.strip()` leaves zero-width spaces, word joiners, BOMs, bidi marks and
fillers that draw nothing, the favourites for blank messages and look-alike names.
"""

from __future__ import annotations

import unicodedata

# Code points that draw nothing although Unicode calls them letters or symbols:
# Hangul fillers and the braille blank, favourites for "invisible" messages.
INVISIBLE_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800\u17b4\u17b5")
# Controls, format characters (zero-width spaces and joiners, word joiner,
# BOM, bidi marks), separators, and marks with nothing to sit on.
INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp", "Mn", "Me"})


def char_is_invisible(char: str) -> bool:
    """True when `char` draws nothing by itself."""
    return char in INVISIBLE_LETTERS or unicodedata.category(char) in INVISIBLE_CATEGORIES


def text_is_visible(text: str) -> bool:
    """True when some character of `text` draws something."""
    return not all(map(char_is_invisible, text))
