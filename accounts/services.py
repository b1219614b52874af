"""Writes on people: deactivating someone ends their chat everywhere."""

from __future__ import annotations

import logging

from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.db.models import F

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
    user_tickets_revoke(user=user, why="deactivated")


@transaction.atomic
def user_tickets_revoke(*, user: User, why: str) -> None:
    """End the person's room access everywhere: tickets not yet used are refused, open sockets close (4401).

    Sign-out, deactivation, a new password and the provider ending the session
    all come here. Other sessions of the person fetch new tickets and go on.
    """
    User.objects.filter(pk=user.pk).update(ticket_generation=F("ticket_generation") + 1)
    # Each caller logs what happened (signed out, deactivated, …) at INFO.
    logger.debug("tickets of user %s revoked: %s", user.pk, why)
    notify.user_sockets_close(user_id=user.pk)
