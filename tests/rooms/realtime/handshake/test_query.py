"""rooms.realtime.handshake.query: query-string values read and parsed strictly."""

from __future__ import annotations

import pytest

from rooms.realtime.handshake.query import BIGINT_MAX, query_param, whole_number


def test_query_param_gives_the_first_value():
    """A repeated parameter gives its first value; percent-escapes are decoded."""
    scope = {"query_string": b"token=a%2Bb&after=1&after=2"}

    assert query_param(scope, "token") == "a+b"
    assert query_param(scope, "after") == "1"


def test_query_param_is_none_when_absent():
    """A missing parameter, or a scope without a query string, gives None."""
    assert query_param({"query_string": b"token=x"}, "after") is None
    assert query_param({}, "after") is None


@pytest.mark.parametrize(("value", "number"), [("0", 0), ("42", 42), ("007", 7)])
def test_whole_number_parses_ascii_digits(value, number):
    """Plain ASCII digits are a whole number."""
    assert whole_number(value) == number


@pytest.mark.parametrize("value", ["", "-1", "+1", "1.5", "1e3", " 1", "abc", "²", "١٢", "\uff11\uff12"])
def test_whole_number_refuses_anything_else(value):
    """Signs, decimals, spaces and non-ASCII digits ("²", Arabic-Indic, full-width) are not ids."""
    assert whole_number(value) is None


@pytest.mark.parametrize("value", [str(BIGINT_MAX + 1), "9" * 30, "9" * 5000])
def test_whole_number_is_capped_at_bigint(value):
    """Numbers past PostgreSQL's bigint, however long, are capped rather than refused."""
    assert whole_number(value) == BIGINT_MAX
