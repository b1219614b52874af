"""Reads about people."""

from __future__ import annotations

import re

from django.db.models import Q, QuerySet
from django.db.models.functions import Lower

from accounts.models import User
from accounts.names import name_key, name_with_handle


def user_named_like(*, name: str, other_than: int | None = None) -> User | None:
    """Someone (but user `other_than`) whose shown name clashes with `name` (accounts.names)."""
    others = User.objects.filter(name_key=name_key(name))
    if other_than is not None:
        others = others.exclude(pk=other_than)
    return others.order_by("pk").first()


def display_name_unambiguous(*, wanted: str, handles: list[str], user_id: int | None) -> str:
    """`wanted` if no one else's name looks like it, else with the first handle that makes it unique.

    `handles` are tried in order (the provider's preferred_username, then the
    username, which is unique); the last is used even if that still clashes.
    """
    if not wanted or user_named_like(name=wanted, other_than=user_id) is None:
        return wanted
    candidates = [name_with_handle(wanted, handle) for handle in handles if handle]
    for candidate in candidates:
        if user_named_like(name=candidate, other_than=user_id) is None:
            return candidate
    return candidates[-1] if candidates else wanted


def user_ids_by_handles(*, handles: list[str], among: QuerySet[User] | None = None) -> dict[str, int]:
    """Active people (of `among`) by @handle (username, any case): lower-cased handle -> id."""
    if not handles:
        return {}
    found = (
        (User.objects.all() if among is None else among)
        .filter(is_active=True)
        .annotate(handle=Lower("username"))
        .filter(handle__in=handles)
        .values_list("handle", "pk")
    )
    return dict(found)


def user_list_matching(*, typed: str, among: QuerySet[User] | None = None, limit: int = 8) -> list[User]:
    """Active people (of `among`) whose handle or shown name starts with `typed` (any case)."""
    typed = typed.strip().lstrip("@")
    people = (User.objects.all() if among is None else among).filter(is_active=True)
    if typed:
        # Any word of the shown name: "jon" finds "Robert Jones".
        word_start = rf"(^|[\s(]){re.escape(typed)}"
        people = people.filter(
            Q(username__istartswith=typed)
            | Q(name_key__startswith=name_key(typed))
            | Q(display_name__iregex=word_start)
        )
    return list(people.order_by("username")[:limit])
