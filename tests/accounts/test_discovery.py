"""Provider discovery: read once, overridable, loud and clear when it fails."""

from __future__ import annotations

import pytest

from accounts.discovery import ProviderUnavailable, provider_configuration, provider_setting


def discovery_hits(provider) -> int:
    return sum("/.well-known/openid-configuration" in line for line in provider.log)


def test_endpoints_come_from_the_discovery_document(provider):
    """With only OIDC_ISSUER set, every endpoint is discovered."""
    assert provider_setting("OIDC_OP_AUTHORIZATION_ENDPOINT") == provider.url("/authorize")
    assert provider_setting("OIDC_OP_TOKEN_ENDPOINT") == provider.url("/token")
    assert provider_setting("OIDC_OP_USER_ENDPOINT") == provider.url("/userinfo")
    assert provider_setting("OIDC_OP_JWKS_ENDPOINT") == provider.url("/jwks")
    assert provider_setting("OIDC_OP_LOGOUT_ENDPOINT") == provider.url("/logout")


def test_discovery_document_is_read_once(provider):
    """Later look-ups come from the cache, not the network."""
    provider_setting("OIDC_OP_TOKEN_ENDPOINT")
    hits = discovery_hits(provider)
    provider_setting("OIDC_OP_JWKS_ENDPOINT")
    provider_configuration()
    assert hits == 1
    assert discovery_hits(provider) == hits


def test_a_setting_overrides_the_discovered_endpoint(provider, settings):
    """Each endpoint stays overridable by mozilla-django-oidc's own setting name."""
    settings.OIDC_OP_TOKEN_ENDPOINT = "https://idp.example/custom-token"
    assert provider_setting("OIDC_OP_TOKEN_ENDPOINT") == "https://idp.example/custom-token"


def test_failed_discovery_names_the_url(provider):
    """A provider whose discovery fails gives an error that names the URL to check."""
    provider.fail_discovery = True
    with pytest.raises(ProviderUnavailable, match=r"/\.well-known/openid-configuration"):
        provider_configuration()


def test_discovery_for_another_issuer_is_refused(provider):
    """A document that names another issuer is not trusted (Discovery §4.3)."""
    provider.discovery_overrides = {"issuer": "https://impostor.example"}
    with pytest.raises(ProviderUnavailable, match="impostor"):
        provider_configuration()


def test_failed_discovery_is_not_cached(provider):
    """Once the provider is back, discovery works without a restart."""
    provider.fail_discovery = True
    with pytest.raises(ProviderUnavailable):
        provider_configuration()
    provider.fail_discovery = False
    assert provider_configuration()["issuer"] == provider.issuer
