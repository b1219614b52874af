"""Writes on people: deactivating someone ends their chat everywhere; their provider groups."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.db.models import F

from accounts.models import ProviderGroup, User
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
    """End the person's room access in every session: unused tickets are refused, open sockets close (4401).

    Deactivation and a new password come here (one session ending closes its
    own sockets: accounts.sessions). A session still signed in fetches new tickets.
    """
    User.objects.filter(pk=user.pk).update(ticket_generation=F("ticket_generation") + 1)
    # Each caller logs what happened (signed out, deactivated, …) at INFO.
    logger.debug("tickets of user %s revoked: %s", user.pk, why)
    notify.user_sockets_close(user_id=user.pk)


# Longer names are no group a room could grant (RoomGroupGrant.group).
GROUP_NAME_MAX_LENGTH = 255


def groups_from_claims(claims: dict[str, Any], claim: str) -> set[str] | None:
    """The group names a provider's `claim` lists; None when no claim is configured (`claim` empty).

    Keycloak, Okta and Auth0 send a list of strings; a single string is one
    group; anything else in the list is ignored, not trusted. A missing claim
    is no groups: providers leave it out for someone in none, and someone who
    left their last group must lose its rooms.
    """
    if not claim:
        return None
    value = claims.get(claim, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return set()
    return {group for group in value if isinstance(group, str) and 0 < len(group) <= GROUP_NAME_MAX_LENGTH}


@transaction.atomic
def user_groups_sync(*, user: User, groups: set[str]) -> bool:
    """Make the person's provider groups exactly `groups`; True if they changed.

    Rooms granted to a group they left are closed to them at once: their
    sockets there re-check and close (4403), their dashboards relist.
    """
    held = set(ProviderGroup.objects.filter(user=user).values_list("name", flat=True))
    if held == groups:
        return False
    ProviderGroup.objects.filter(user=user, name__in=held - groups).delete()
    # Two tabs re-checking at once may both add a group: the second adds nothing.
    ProviderGroup.objects.bulk_create(
        (ProviderGroup(user=user, name=name) for name in groups - held), ignore_conflicts=True
    )
    logger.info("groups of user %s now %s (were %s)", user.pk, sorted(groups), sorted(held))
    notify.user_access_changed(user_id=user.pk)
    return True
