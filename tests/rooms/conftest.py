"""Fixtures shared by the rooms tests."""

from __future__ import annotations

import pytest

from tests import factories


@pytest.fixture
def room():
    """A fresh active room."""
    return factories.room_create()


@pytest.fixture
def author():
    """Someone who writes in it."""
    return factories.user_create(display_name="Alice")
