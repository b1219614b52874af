"""accounts.services: deactivating someone ends their chat everywhere."""

from __future__ import annotations

import logging

import pytest

from accounts.services import user_deactivate
from rooms import selectors
from tests import factories
from tests.factories import user_create

pytestmark = pytest.mark.django_db

LOGGED = (logging.INFO, logging.WARNING)


def test_user_deactivate_makes_the_user_inactive(django_capture_on_commit_callbacks):
    """A deactivated user is inactive, and their sockets are told to close once it commits."""
    user = factories.user_create()

    with django_capture_on_commit_callbacks() as callbacks:
        user_deactivate(user=user)

    user.refresh_from_db()
    assert user.is_active is False
    assert selectors.user_get_active(user_id=user.pk) is None
    assert len(callbacks) == 1


def test_user_deactivate_twice_is_harmless(django_capture_on_commit_callbacks):
    """Deactivating an inactive user changes nothing and closes nothing."""
    user = factories.user_create(is_active=False)

    with django_capture_on_commit_callbacks() as callbacks:
        user_deactivate(user=user)

    assert callbacks == []


def test_user_deactivate_is_logged_with_the_user(caplog):
    """Deactivating a user logs the user's id and name."""
    caplog.set_level(logging.INFO, logger="accounts.services")
    user = user_create(username="mallory")
    user_deactivate(user=user)
    (record,) = [r for r in caplog.records if r.name == "accounts.services"]
    assert record.levelno in LOGGED
    assert f"user {user.pk} (mallory) deactivated" in record.getMessage()
