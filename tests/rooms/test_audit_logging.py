"""Moderation actions and session ends are logged: who, what, why, at INFO or WARNING."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.services import user_deactivate
from rooms.models import Room
from rooms.services import message_delete, room_archive, user_mute
from tests.factories import message_insert, user_create

pytestmark = pytest.mark.django_db

LOGGED = (logging.INFO, logging.WARNING)


def service_records(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "rooms.services"]


def test_message_delete_is_logged_with_the_message_room_and_moderator(caplog):
    """Deleting a message logs which message, in which room, by which moderator."""
    caplog.set_level(logging.INFO, logger="rooms.services")
    author, moderator = user_create(username="carol"), user_create(username="mod-dave", is_staff=True)
    message = message_insert(room=Room.objects.get(slug="general"), author=author, text="oops")
    message_delete(message=message, by=moderator)
    (record,) = service_records(caplog)
    assert record.levelno in LOGGED
    assert f"message {message.pk} in general deleted by mod-dave" in record.getMessage()


def test_room_archive_is_logged_with_the_room(caplog):
    """Archiving a room logs which room."""
    caplog.set_level(logging.INFO, logger="rooms.services")
    room_archive(room=Room.objects.get(slug="music"))
    (record,) = service_records(caplog)
    assert record.levelno in LOGGED
    assert "room music archived" in record.getMessage()


def test_user_mute_is_logged_with_the_user_room_moderator_and_reason(caplog):
    """Muting logs who was muted, where, until when, by whom and why."""
    caplog.set_level(logging.INFO, logger="rooms.services")
    user, moderator = user_create(username="loud"), user_create(username="mod-erin", is_staff=True)
    until = timezone.now() + timedelta(minutes=10)
    user_mute(
        room=Room.objects.get(slug="sports"),
        user=user,
        until=until,
        moderator=moderator,
        reason="spamming links",
    )
    (record,) = service_records(caplog)
    assert record.levelno in LOGGED
    message = record.getMessage()
    for words in (f"user {user.pk} muted in sports", "by mod-erin", "spamming links", str(until.year)):
        assert words in message


def test_sign_out_is_logged_with_the_user(client, caplog):
    """Signing out (which closes the user's sockets) logs the user's id."""
    caplog.set_level(logging.INFO, logger="accounts.views")
    user = user_create(username="frank")
    client.force_login(user)
    client.post("/accounts/logout/")
    (record,) = [r for r in caplog.records if r.name == "accounts.views"]
    assert record.levelno in LOGGED
    assert f"user {user.pk} signed out" in record.getMessage()


def test_archive_and_deactivation_name_the_moderator(caplog, admin_user):
    """Archiving a room and deactivating a user say which moderator did it."""
    caplog.set_level("INFO")
    room_archive(room=Room.objects.get(slug="music"), moderator=admin_user)
    user_deactivate(user=user_create(username="carol"), moderator=admin_user)
    lines = [r.getMessage() for r in caplog.records]
    assert any("music archived by admin" in line for line in lines)
    assert any("carol) deactivated by admin" in line for line in lines)
