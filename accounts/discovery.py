"""OpenID provider discovery, and mozilla-django-oidc settings read on use.

mozilla-django-oidc has no discovery and reads its endpoint settings in
__init__ (of its backend, views and middleware). We read
`<OIDC_ISSUER>/.well-known/openid-configuration` on first use, cache it, and
let each endpoint be overridden by the library's own setting name. Reading
on use, not at start, keeps the site (and local admin sign-in) up while the
provider is down.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger(__name__)

DISCOVERY_PATH = "/.well-known/openid-configuration"
DISCOVERY_TTL_SECONDS = 3600

# mozilla-django-oidc setting name -> discovery document key.
DISCOVERED_SETTINGS = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint",
    "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",
    "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint",
    "OIDC_OP_JWKS_ENDPOINT": "jwks_uri",
    "OIDC_OP_LOGOUT_ENDPOINT": "end_session_endpoint",
}
# Attribute names the library's classes use for settings of another name.
ATTRIBUTE_ALIASES = {"OIDC_OP_AUTH_ENDPOINT": "OIDC_OP_AUTHORIZATION_ENDPOINT"}
# The library's own defaults for the attributes its __init__ methods would set.
LIBRARY_DEFAULTS: dict[str, object] = {
    "OIDC_RP_IDP_SIGN_KEY": None,
    "OIDC_EXEMPT_URLS": [],
    "OIDC_STATE_SIZE": 32,
    "OIDC_NONCE_SIZE": 32,
    "OIDC_USE_NONCE": True,
    "OIDC_AUTHENTICATION_CALLBACK_URL": "oidc_authentication_callback",
}

_cache: dict[str, tuple[float, dict[str, Any]]] = {}
_lock = threading.Lock()


class ProviderUnavailable(Exception):
    """The OpenID provider's discovery document could not be read."""


def discovery_url(issuer: str) -> str:
    """Where an issuer publishes its configuration."""
    return issuer.rstrip("/") + DISCOVERY_PATH


def provider_configuration(issuer: str | None = None) -> dict[str, Any]:
    """The issuer's discovery document, fetched once an hour at most."""
    issuer = issuer or settings.OIDC_ISSUER
    with _lock:
        cached = _cache.get(issuer)
        if cached and time.monotonic() - cached[0] < DISCOVERY_TTL_SECONDS:
            return cached[1]
    document = _fetch(issuer)
    with _lock:
        _cache[issuer] = (time.monotonic(), document)
    return document


def _fetch(issuer: str) -> dict[str, Any]:
    url = discovery_url(issuer)
    try:
        response = requests.get(url, timeout=settings.OIDC_TIMEOUT)
        response.raise_for_status()
        document = response.json()
    except (requests.RequestException, ValueError) as exc:
        logger.error("OIDC discovery failed at %s: %s", url, exc)
        raise ProviderUnavailable(f"Could not read the provider configuration at {url}: {exc}") from exc
    # OpenID Connect Discovery 1.0 §4.3: the document must name the issuer we asked.
    if document.get("issuer", "").rstrip("/") != issuer.rstrip("/"):
        raise ProviderUnavailable(
            f"The configuration at {url} names issuer {document.get('issuer')!r}, not {issuer!r}."
        )
    return document


def forget_provider_configuration() -> None:
    """Drop cached discovery documents and keys (tests, key rotation)."""
    with _lock:
        _cache.clear()
        _keys.clear()


# The provider's published keys (its JWKS), by URL: (fetched at, document).
# Read once per KEYS_TTL_SECONDS, and again for a key id they lack (a rotation),
# at most once per KEYS_REFETCH_SECONDS: the unauthenticated back-channel
# endpoint must not make the site fetch the provider's keys per request.
_keys: dict[str, tuple[float, dict[str, Any]]] = {}
KEYS_TTL_SECONDS = 3600
KEYS_REFETCH_SECONDS = 30


def provider_key(jwks_url: str, header: dict[str, Any]) -> dict[str, Any] | None:
    """The published key (a JWK) matching a token's header: its `kid` and, if the key says, `alg`."""
    with _lock:
        cached = _keys.get(jwks_url)
    age = time.monotonic() - cached[0] if cached else None
    if cached is not None and age is not None and age < KEYS_TTL_SECONDS:
        key = _matching(cached[1], header)
        if key is not None or age < KEYS_REFETCH_SECONDS:
            return key
    document = _fetch_keys(jwks_url)
    with _lock:
        _keys[jwks_url] = (time.monotonic(), document)
    return _matching(document, header)


def _matching(jwks: dict[str, Any], header: dict[str, Any]) -> dict[str, Any] | None:
    # As mozilla-django-oidc's retrieve_matching_jwk: the last key of the token's kid and alg.
    found = None
    for key in jwks.get("keys", []):
        if provider_setting("OIDC_VERIFY_KID", True) and key.get("kid") != header.get("kid"):
            continue
        if "alg" in key and key["alg"] != header.get("alg"):
            continue
        found = key
    return found


def _fetch_keys(url: str) -> dict[str, Any]:
    try:
        response = requests.get(
            url, timeout=settings.OIDC_TIMEOUT, verify=provider_setting("OIDC_VERIFY_SSL", True)
        )
        response.raise_for_status()
        document = response.json()
    except (requests.RequestException, ValueError) as exc:
        logger.error("the provider's keys could not be read at %s: %s", url, exc)
        raise ProviderUnavailable(f"Could not read the provider's keys at {url}: {exc}") from exc
    if not isinstance(document, dict):
        raise ProviderUnavailable(f"The provider's keys at {url} are not a JWKS document.")
    return document


_MISSING = object()


def provider_setting(name: str, default: Any = _MISSING) -> Any:
    """A mozilla-django-oidc setting: Django's setting if set, else discovered, else `default`."""
    name = ATTRIBUTE_ALIASES.get(name, name)
    value = getattr(settings, name, None)
    if value is not None:
        return value
    if name in DISCOVERED_SETTINGS:
        value = provider_configuration().get(DISCOVERED_SETTINGS[name])
        if value is not None:
            return value
    if default is not _MISSING:
        return default
    raise ImproperlyConfigured(f"Setting {name} is not set and the provider does not publish it.")


class ProviderSettings:
    """Mixin for mozilla-django-oidc classes: settings are read on use, with discovery.

    Subclasses skip the library's __init__, which would read every endpoint
    (and so contact the provider) whenever Django builds the class.
    """

    @staticmethod
    def get_settings(attr: str, *args: Any) -> Any:
        """The library's settings hook, answered with discovery."""
        return provider_setting(attr, *args)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("OIDC_"):
            return provider_setting(name, LIBRARY_DEFAULTS.get(name, _MISSING))
        raise AttributeError(name)
