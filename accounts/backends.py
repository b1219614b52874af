"""Sign-in through an OpenID provider: mozilla-django-oidc with its gaps closed.

The library checks neither the ID token's `aud` nor its `iss`, lets expired
tokens end in a 500, and matches users by email. We override only its hooks:
full ID-token verification, identity by (issuer, sub), names from claims.
"""

from __future__ import annotations

import hashlib
import logging
import re
from typing import Any
from urllib.parse import quote

import jwt
import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import SuspiciousOperation
from django.db import transaction
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from accounts.discovery import ProviderSettings, provider_key, provider_setting
from accounts.models import OidcIdentity
from accounts.selectors import display_name_unambiguous
from accounts.services import groups_from_claims, user_groups_sync

logger = logging.getLogger(__name__)

ID_TOKEN_LEEWAY_SECONDS = 30
ID_TOKEN_REQUIRED_CLAIMS = ["iss", "sub", "aud", "exp", "iat"]


def display_name_from_claims(claims: dict[str, Any]) -> str:
    """The name people see: `name`, then `preferred_username`, then `email`."""
    for claim in ("name", "preferred_username", "email"):
        value = claims.get(claim)
        if isinstance(value, str) and value.strip():
            return value.strip()[:150]
    return ""


def shown_name_from_claims(claims: dict[str, Any], *, username: str, user_id: int | None) -> str:
    """The claims' name, or, when someone else's name looks like it, that name with a handle.

    A provider user named "Alice" beside a local alice is shown as
    "Alice (alice.w)": their preferred_username, else their username.
    """
    preferred = claims.get("preferred_username")
    handles = [preferred.strip() if isinstance(preferred, str) else "", username]
    return display_name_unambiguous(wanted=display_name_from_claims(claims), handles=handles, user_id=user_id)


def username_from_claims(issuer: str, subject: str, claims: dict[str, Any]) -> str:
    """A unique, stable username; the suffix keeps it apart from local accounts."""
    base = claims.get("preferred_username") or str(claims.get("email", "")).split("@")[0] or "user"
    base = re.sub(r"[^\w.@+-]", "", str(base))[:100] or "user"
    suffix = hashlib.sha256(f"{issuer}\n{subject}".encode()).hexdigest()[:8]
    return f"{base}-{suffix}"


class ProviderBackend(ProviderSettings, OIDCAuthenticationBackend):
    """Authenticate people with the OpenID provider at OIDC_ISSUER."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Skip the library's __init__: it reads (and so discovers) every
        # endpoint whenever Django loads the backend, i.e. on every request.
        self.UserModel = get_user_model()

    def get_user(self, user_id: Any):
        """The user a session names, unless deactivated since.

        The library's get_user does not check is_active (Django's ModelBackend
        does): a deactivated person's session would keep loading pages and,
        POSTs skipping the provider re-check, keep deleting messages as staff.
        """
        user = super().get_user(user_id)
        return user if user is not None and user.is_active else None

    def authenticate(self, request, **kwargs: Any):
        """Only the OIDC callback (which passes the session's nonce) signs in through us."""
        if "nonce" not in kwargs:
            return None
        return super().authenticate(request, **kwargs)

    def retrieve_matching_jwk(self, token: str) -> jwt.PyJWK:
        """The provider's key for the token, from keys read once an hour (the library: per token)."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise SuspiciousOperation(f"Token refused: {exc}") from exc
        key = provider_key(self.OIDC_OP_JWKS_ENDPOINT, header)
        if key is None:
            raise SuspiciousOperation("Could not find a valid JWKS.")
        return jwt.PyJWK(key)

    def get_token(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Exchange the code; client_secret_basic credentials are form-encoded (RFC 6749 §2.3.1)."""
        auth = None
        if provider_setting("OIDC_TOKEN_USE_BASIC_AUTH", False):
            # The library sends them raw: a secret with ':' or '%' then fails.
            client_id = quote(payload["client_id"], safe="")
            secret = quote(payload.pop("client_secret"), safe="")
            auth = requests.auth.HTTPBasicAuth(client_id, secret)
        response = requests.post(
            self.OIDC_OP_TOKEN_ENDPOINT,
            data=payload,
            auth=auth,
            verify=provider_setting("OIDC_VERIFY_SSL", True),
            timeout=provider_setting("OIDC_TIMEOUT"),
        )
        self.raise_token_response_error(response)
        return response.json()

    def verify_token(self, token: str, **kwargs: Any) -> dict[str, Any]:
        """Verify an ID token: signature by the provider's key, our algorithm, iss, aud, exp, nonce."""
        algorithm = self.OIDC_RP_SIGN_ALGO
        try:
            if jwt.get_unverified_header(token).get("alg") != algorithm:
                raise SuspiciousOperation(f"ID token is not signed with {algorithm}.")
            claims = jwt.decode(
                token,
                self.retrieve_matching_jwk(token),
                algorithms=[algorithm],
                audience=self.OIDC_RP_CLIENT_ID,
                issuer=provider_setting("OIDC_ISSUER"),
                leeway=ID_TOKEN_LEEWAY_SECONDS,
                options={"require": ID_TOKEN_REQUIRED_CLAIMS},
            )
        except (jwt.PyJWTError, KeyError, ValueError) as exc:
            raise SuspiciousOperation(f"ID token refused: {exc}") from exc
        # Several audiences: the authorized party must be us (OIDC Core §3.1.3.7).
        if isinstance(claims["aud"], list) and claims.get("azp") != self.OIDC_RP_CLIENT_ID:
            raise SuspiciousOperation("ID token refused: azp is not this client.")
        if kwargs.get("nonce") is None or claims.get("nonce") != kwargs["nonce"]:
            raise SuspiciousOperation("ID token refused: nonce does not match this sign-in.")
        return claims

    def get_userinfo(self, access_token: str, id_token: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Userinfo claims over the verified ID token's, for the same subject only."""
        userinfo = super().get_userinfo(access_token, id_token, payload)
        if userinfo.get("sub") != payload["sub"]:
            # OIDC Core §5.3.2: a different subject means a substituted response.
            raise SuspiciousOperation("Userinfo is about another subject than the ID token.")
        return {**payload, **userinfo, "iss": payload["iss"]}

    def get_or_create_user(self, access_token: str, id_token: str, payload: dict[str, Any]):
        """Sign in as the library does, noting the provider's session id for back-channel logout.

        On the request, not yet in the session: signing in may flush the session
        (another person was signed in); ProviderCallbackView keeps it after that.
        """
        sid = payload.get("sid")
        self.request.provider_sid = sid if isinstance(sid, str) else ""
        return super().get_or_create_user(access_token, id_token, payload)

    def verify_claims(self, claims: dict[str, Any]) -> bool:
        """A subject is all we need; email is optional and never identifies."""
        return bool(claims.get("sub"))

    def filter_users_by_claims(self, claims: dict[str, Any]):
        """The user linked to this (issuer, sub), never one found by email."""
        return self.UserModel.objects.filter(
            oidc_identities__issuer=claims["iss"], oidc_identities__subject=claims["sub"]
        )

    @transaction.atomic
    def create_user(self, claims: dict[str, Any]):
        """Create a user and link it to the provider identity."""
        issuer, subject = claims["iss"], claims["sub"]
        username = username_from_claims(issuer, subject, claims)
        user = self.UserModel.objects.create_user(
            username=username,
            email=claims.get("email") or "",
            display_name=shown_name_from_claims(claims, username=username, user_id=None),
        )  # No password: this account signs in only through the provider.
        OidcIdentity.objects.create(user=user, issuer=issuer, subject=subject)
        logger.info("created user %s for %s at %s", user.pk, subject, issuer)
        self.groups_store(user, claims)
        return user

    def groups_store(self, user, claims: dict[str, Any]) -> None:
        """Keep the groups the provider lists for the person (OIDC_GROUPS_CLAIM), if it lists any."""
        groups = groups_from_claims(claims, settings.OIDC_GROUPS_CLAIM)
        if groups is not None:
            user_groups_sync(user=user, groups=groups)

    def update_user(self, user, claims: dict[str, Any]):
        """Refresh email and display name from the provider at every sign-in."""
        user.email = claims.get("email") or user.email
        shown = shown_name_from_claims(claims, username=user.username, user_id=user.pk)
        user.display_name = shown or user.display_name
        user.save(update_fields=["email", "display_name"])
        self.groups_store(user, claims)
        return user
