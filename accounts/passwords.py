"""A new password ends the person's chat everywhere, however it was set.

Django tells every password validator of a change (`password_changed`, from
AbstractBaseUser.save): the admin's forms, `/admin/password_change/`,
`manage.py changepassword` and a reset all pass through it. Django ends the
person's other sessions with the password (the session auth hash); their
tickets are refused and their open sockets close (4401) here.
"""

from __future__ import annotations

from accounts.models import User
from accounts.services import user_tickets_revoke


class NewPasswordEndsChat:
    """An AUTH_PASSWORD_VALIDATORS entry that validates nothing and revokes on change."""

    def validate(self, password: str, user: User | None = None) -> None:
        """Every password is fine by this validator: it only listens for changes."""

    def password_changed(self, password: str, user: User | None = None) -> None:
        """Revoke the person's tickets and close their sockets (a new account has none: a no-op there)."""
        if user is not None and user.pk is not None:
            user_tickets_revoke(user=user, why="a new password")

    def get_help_text(self) -> str:
        return ""
