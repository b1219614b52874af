from __future__ import annotations

import pytest

from accounts.discovery import forget_provider_configuration
from tests.certified_provider import CertifiedProvider
from tests.oidc_provider import OpenIDProvider


def sign_in_through(provider, settings, *, name: str, timeout: float) -> None:
    """Configure the site to sign in through `provider` (its issuer, client and secret)."""
    forget_provider_configuration()
    settings.OIDC_ISSUER = provider.issuer
    settings.OIDC_RP_CLIENT_ID = provider.client_id
    settings.OIDC_RP_CLIENT_SECRET = provider.client_secret
    settings.OIDC_ENABLED = True
    settings.OIDC_PROVIDER_NAME = name
    settings.OIDC_TIMEOUT = timeout


@pytest.fixture(scope="session")
def oidc_provider():
    """One real OpenID provider on 127.0.0.1 for the session (RSA keys made per run)."""
    with OpenIDProvider() as provider:
        yield provider


@pytest.fixture
def provider(oidc_provider, settings):
    """The provider, reset, with the site configured to sign in through it."""
    oidc_provider.reset()
    sign_in_through(oidc_provider, settings, name="Test Provider", timeout=2.0)
    yield oidc_provider
    forget_provider_configuration()
    assert oidc_provider.errors == [], "the provider crashed while answering"


@pytest.fixture(scope="session")
def certified_oidc_provider():
    """panva's certified oidc-provider under Node for the session; fails (never skips) without Node."""
    with CertifiedProvider(
        redirect_uris=["http://testserver/oidc/callback/"], post_logout_redirect_uris=["http://testserver/"]
    ) as provider:
        yield provider


@pytest.fixture
def certified_provider(certified_oidc_provider, settings):
    """The certified provider with default accounts and no sessions, the site signing in through it."""
    certified_oidc_provider.reset()
    sign_in_through(certified_oidc_provider, settings, name="Certified Provider", timeout=5.0)
    yield certified_oidc_provider
    forget_provider_configuration()
    assert certified_oidc_provider.errors == [], "the provider reported errors"
