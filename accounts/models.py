from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    """A person who chats; OIDC users and local accounts alike."""

    display_name = models.CharField(
        max_length=150, blank=True, help_text="Shown in rooms; falls back to the username."
    )
    # Every room ticket names the generation it was minted in; the handshake
    # refuses older ones. Taken up by accounts.services.user_tickets_revoke:
    # sign-out, deactivation, a new password set in the admin, the provider.
    ticket_generation = models.PositiveIntegerField(default=0, editable=False)

    def get_display_name(self) -> str:
        """Return the name other people see in rooms."""
        return self.display_name or self.get_full_name() or self.username


class OidcIdentity(models.Model):
    """Who someone is at an OpenID provider: (issuer, sub), never their email.

    Emails change and get reused; the provider's subject identifier does not.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="oidc_identities")
    issuer = models.CharField(max_length=255)
    subject = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["issuer", "subject"], name="oidc_identity_unique"),
        ]
        verbose_name = "OpenID identity"

    def __str__(self) -> str:
        return f"{self.subject} at {self.issuer}"
