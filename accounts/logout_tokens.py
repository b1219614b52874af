"""OpenID Connect Back-Channel Logout 1.0: the provider's logout token, verified as §2.6 asks.

The provider POSTs a signed JWT naming a session (`sid`) and/or a person
(`sub`) that ended at the provider; the matching site sessions end, and
their sockets with them (accounts.sessions). Nothing changes unless every
check passes, and a token is taken once (its `jti`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import jwt
import requests
from django.core.exceptions import SuspiciousOperation
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.discovery import ProviderUnavailable, provider_setting
from accounts.models import LogoutTokenSeen, OidcIdentity, SiteSession
from accounts.sessions import sessions_end

# §2.4: the one member the `events` claim must hold.
LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"
# Logout tokens are sent as the logout happens: an older one is refused
# (and its jti need not be remembered longer).
MAX_AGE = timedelta(minutes=5)
LEEWAY_SECONDS = 30
REQUIRED_CLAIMS = ["iss", "aud", "iat", "jti"]
# A token is ~1 KB; refuse what is no logout token before parsing it.
MAX_TOKEN_BYTES = 8192


class LogoutTokenInvalid(Exception):
    """The logout token fails a check: the request is refused (400) and nothing ends."""


@dataclass(frozen=True)
class LogoutRequest:
    """Who a valid logout token says signed out at the provider."""

    issuer: str
    jti: str
    subject: str = ""
    sid: str = ""


def logout_token_verify(token: str, *, backend) -> LogoutRequest:
    """Check a logout token (signature by the provider's key, iss, aud, iat, events, sid/sub, no nonce).

    `backend` is the ProviderBackend, whose JWKS lookup the ID token uses too.
    """
    if not token or len(token) > MAX_TOKEN_BYTES:
        raise LogoutTokenInvalid("no logout token, or one too large")
    algorithm = backend.OIDC_RP_SIGN_ALGO
    try:
        if jwt.get_unverified_header(token).get("alg") != algorithm:
            raise LogoutTokenInvalid(f"logout token is not signed with {algorithm}")
        # Its shape first: junk costs no look at the provider's keys.
        _logout_request(jwt.decode(token, options={"verify_signature": False}))
        key = backend.retrieve_matching_jwk(token)
        claims = jwt.decode(
            token,
            key,
            algorithms=[algorithm],
            audience=backend.OIDC_RP_CLIENT_ID,
            issuer=provider_setting("OIDC_ISSUER"),
            leeway=LEEWAY_SECONDS,
            options={"require": REQUIRED_CLAIMS},
        )
    except (jwt.PyJWTError, SuspiciousOperation, KeyError, ValueError) as exc:
        raise LogoutTokenInvalid(f"logout token refused: {exc}") from exc
    except (requests.RequestException, ProviderUnavailable) as exc:
        raise LogoutTokenInvalid(f"the provider's keys could not be read: {exc}") from exc
    return _logout_request(claims)


def _logout_request(claims: dict) -> LogoutRequest:
    """The checks of §2.6 beyond the JWT's own."""
    events = claims.get("events")
    if not isinstance(events, dict) or not isinstance(events.get(LOGOUT_EVENT), dict):
        raise LogoutTokenInvalid("the events claim does not name a back-channel logout")
    if "nonce" in claims:
        raise LogoutTokenInvalid("a logout token must not carry a nonce")
    if not isinstance(claims.get("iss"), str) or not isinstance(claims.get("jti"), str | int):
        raise LogoutTokenInvalid("a logout token names its issuer and has a jti")
    if not isinstance(claims.get("iat"), int | float):
        raise LogoutTokenInvalid("a logout token says when it was issued (iat)")
    subject, sid = claims.get("sub", ""), claims.get("sid", "")
    if not isinstance(subject, str) or not isinstance(sid, str) or not (subject or sid):
        raise LogoutTokenInvalid("a logout token names a sid, a sub, or both")
    if timezone.now().timestamp() - claims["iat"] > MAX_AGE.total_seconds():
        raise LogoutTokenInvalid("the logout token is too old")
    if isinstance(claims["aud"], list) and claims.get("azp") not in (None, *claims["aud"]):
        raise LogoutTokenInvalid("the logout token's azp is not one of its audiences")
    return LogoutRequest(issuer=claims["iss"], jti=str(claims["jti"]), subject=subject, sid=sid)


@transaction.atomic
def provider_logout(*, request: LogoutRequest) -> int:
    """End the site sessions a verified logout names (their sockets close, 4401); how many ended.

    A jti already taken refuses the whole request (a replay), in the same
    transaction that ends the sessions: a token is taken once, on every process.
    """
    LogoutTokenSeen.objects.filter(seen_at__lt=timezone.now() - MAX_AGE * 2).delete()
    try:
        with transaction.atomic():
            LogoutTokenSeen.objects.create(issuer=request.issuer, jti=request.jti)
    except IntegrityError as exc:
        raise LogoutTokenInvalid("this logout token was already used") from exc
    sessions = SiteSession.objects.all()
    if request.sid:
        sessions = sessions.filter(provider_sid=request.sid)
    if request.subject:
        people = OidcIdentity.objects.filter(issuer=request.issuer, subject=request.subject).values("user_id")
        sessions = sessions.filter(user_id__in=people)
    return sessions_end(sessions)
