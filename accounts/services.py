"""Writes on people: deactivating someone ends their chat everywhere."""

from __future__ import annotations

import logging

from django.contrib.auth.models import AnonymousUser
from django.db import transaction

from accounts.models import User
from rooms.realtime import notify

logger = logging.getLogger(__name__)


@transaction.atomic
def user_deactivate(*, user: User, moderator: User | AnonymousUser | None = None) -> None:
    """Deactivate a user: no more sign-in or tokens, and every open socket closes (4401)."""
    if not user.is_active:
        return
    user.is_active = False
    user.save(update_fields=["is_active"])
    logger.info("user %s (%s) deactivated by %s", user.pk, user, moderator)
    notify.user_sockets_close(user_id=user.pk)
