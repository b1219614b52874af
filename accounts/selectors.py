"""Reads about people."""

from __future__ import annotations

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
