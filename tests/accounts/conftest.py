from __future__ import annotations

import pytest

from accounts.discovery import forget_provider_configuration
from tests.oidc_provider import OpenIDProvider


@pytest.fixture(scope="session")
def oidc_provider():
    """One real OpenID provider on 127.0.0.1 for the session (RSA keys made per run)."""
    with OpenIDProvider() as provider:
        yield provider


@pytest.fixture
def provider(oidc_provider, settings):
    """The provider, reset, with the site configured to sign in through it."""
    oidc_provider.reset()
    forget_provider_configuration()
    settings.OIDC_ISSUER = oidc_provider.issuer
    settings.OIDC_RP_CLIENT_ID = oidc_provider.client_id
    settings.OIDC_RP_CLIENT_SECRET = oidc_provider.client_secret
    settings.OIDC_ENABLED = True
    settings.OIDC_PROVIDER_NAME = "Test Provider"
    settings.OIDC_TIMEOUT = 2.0
    yield oidc_provider
    forget_provider_configuration()
    assert oidc_provider.errors == [], "the provider crashed while answering"
