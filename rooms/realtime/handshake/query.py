"""Query-string parameters: read from an ASGI scope and parsed strictly, in one place."""

from __future__ import annotations

from urllib.parse import parse_qs

# Message ids are PostgreSQL bigints; anything larger would make the query fail.
BIGINT_MAX = 2**63 - 1


def query_param(scope: dict, name: str) -> str | None:
    """The first value of `name` in the scope's query string, or None."""
    values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get(name)
    return values[0] if values else None


def whole_number(value: str) -> int | None:
    """`value` as a whole number (ASCII digits only, capped at BIGINT_MAX), or None.

    str.isdigit() and int() also accept "²" and "١٢"; ids are plain ASCII.
    """
    if not value or not value.isascii() or not value.isdigit():
        return None
    # Beyond 19 digits it is past the cap anyway; int() would also refuse
    # strings of thousands of digits.
    digits = value.lstrip("0")
    if len(digits) > len(str(BIGINT_MAX)):
        return BIGINT_MAX
    return min(int(digits or "0"), BIGINT_MAX)
