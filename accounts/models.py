from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    """A person who chats; OIDC users and local accounts alike."""

    display_name = models.CharField(
        max_length=150, blank=True, help_text="Shown in rooms; falls back to the username."
    )

    def get_display_name(self) -> str:
        """Return the name other people see in rooms."""
        return self.display_name or self.get_full_name() or self.username
