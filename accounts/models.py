from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractUser
from django.contrib.sessions.base_session import AbstractBaseSession
from django.db import models
from django.db.models.functions import Lower

from accounts.names import name_key

# NFKC can lengthen a name (one ligature becomes up to 18 letters).
NAME_KEY_MAX_LENGTH = 255


class User(AbstractUser):
    """A person who chats; OIDC users and local accounts alike."""

    display_name = models.CharField(
        max_length=150, blank=True, help_text="Shown in rooms; falls back to the username."
    )
    # Every room ticket names the generation it was minted in; the handshake
    # refuses older ones. Taken up by accounts.services.user_tickets_revoke:
    # deactivation and a new password, which end every session's chat (a
    # session ending on its own closes only its sockets: accounts.sessions).
    ticket_generation = models.PositiveIntegerField(default=0, editable=False)
    # accounts.names.name_key of the shown name: no one may look like someone else.
    name_key = models.CharField(max_length=NAME_KEY_MAX_LENGTH, editable=False, db_index=True, default="")

    class Meta:
        verbose_name = "user"
        verbose_name_plural = "users"
        indexes = [
            # @handle mentions look people up by username in any case (accounts.selectors).
            models.Index(Lower("username"), name="user_username_lower"),
        ]

    def get_display_name(self) -> str:
        """Return the name other people see in rooms."""
        return self.display_name or self.get_full_name() or self.username

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Save, keeping name_key in step with the shown name."""
        self.name_key = name_key(self.get_display_name())[:NAME_KEY_MAX_LENGTH]
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "name_key"}
        super().save(*args, **kwargs)


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


class ProviderGroup(models.Model):
    """A group the identity provider says a person is in (the OIDC_GROUPS_CLAIM claim).

    Replaced at every sign-in and provider re-check (accounts.services.user_groups_sync);
    rooms grant access to groups by name (rooms.models.RoomGroupGrant).
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="provider_groups")
    name = models.CharField(max_length=255)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "name"], name="provider_group_unique")]
        indexes = [models.Index(fields=["name"], name="provider_group_name")]
        verbose_name = "group at the provider"

    def __str__(self) -> str:
        return f"{self.user} in {self.name}"


class SiteSession(AbstractBaseSession):
    """A signed-in browser's Django session, with who it is and the id its sockets are bound to.

    `socket_session` is kept in the session's data (accounts.sessions), so it
    survives the key changing at sign-in and at every provider re-check; the
    session ends for its sockets when no row holds it any more.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    socket_session = models.CharField(max_length=32, blank=True, db_index=True)
    # The provider's session id (the ID token's `sid`): what a back-channel logout names.
    provider_sid = models.CharField(max_length=255, blank=True, db_index=True)

    class Meta:
        verbose_name = "signed-in session"
        verbose_name_plural = "signed-in sessions"

    def __str__(self) -> str:
        return f"session of {self.user or 'no one'} until {self.expire_date:%Y-%m-%d %H:%M}"


class LogoutTokenSeen(models.Model):
    """A back-channel logout token already taken (issuer, jti): a replay of it is refused.

    Kept for as long as such a token's `iat` is accepted (accounts.logout_tokens).
    """

    issuer = models.CharField(max_length=255)
    jti = models.CharField(max_length=255)
    seen_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["issuer", "jti"], name="logout_token_seen_unique")]
        verbose_name = "logout token seen"

    def __str__(self) -> str:
        return f"logout token {self.jti} from {self.issuer}"
