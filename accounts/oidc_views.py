"""The OIDC sign-in endpoints: mozilla-django-oidc's views, failing politely.

Every way a sign-in can fail (provider down or slow, tampered state, a
refused ID token) ends on the sign-in page with a message, never in a 500.
"""

from __future__ import annotations

import logging

import requests
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.views.generic import View
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from accounts.discovery import ProviderSettings, ProviderUnavailable

logger = logging.getLogger(__name__)

PROVIDER_UNAVAILABLE = "{provider} did not answer. Please try again in a moment."
SIGN_IN_FAILED = "Signing in with {provider} did not work. Please try again."


def _fail(request: HttpRequest, message: str) -> HttpResponse:
    messages.error(request, message.format(provider=settings.OIDC_PROVIDER_NAME))
    return redirect("accounts:login")


class ProviderViewMixin(ProviderSettings, View):
    """Shared by both views: 404 without a provider, settings read on use."""

    def __init__(self, **kwargs) -> None:
        # Skip the library's __init__, which discovers endpoints eagerly.
        View.__init__(self, **kwargs)

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponseBase:
        if not settings.OIDC_ENABLED:
            raise Http404("OpenID Connect sign-in is not configured.")
        return super().dispatch(request, *args, **kwargs)


class ProviderSignInView(ProviderViewMixin, OIDCAuthenticationRequestView):
    """Send the browser to the provider (state, nonce, PKCE S256)."""

    def get(self, request: HttpRequest) -> HttpResponse:
        try:
            return super().get(request)
        except ProviderUnavailable:
            return _fail(request, PROVIDER_UNAVAILABLE)


class ProviderCallbackView(ProviderViewMixin, OIDCAuthenticationCallbackView):
    """Finish the sign-in the provider sent back."""

    def get(self, request: HttpRequest) -> HttpResponse:
        if request.GET.get("error") and request.user.is_authenticated:
            # A silent re-check (SessionRefresh, prompt=none) failed: the library
            # logs the session out, and its sockets close with it (accounts.sessions).
            logger.info("provider ended the session of user %s: %s", request.user.pk, request.GET["error"])
        try:
            return super().get(request)
        except (ProviderUnavailable, requests.Timeout, requests.ConnectionError) as exc:
            logger.warning("OIDC sign-in failed, provider unreachable: %s", exc)
            return _fail(request, PROVIDER_UNAVAILABLE)
        except (SuspiciousOperation, requests.RequestException) as exc:
            logger.warning("OIDC sign-in refused: %s", exc)
            return _fail(request, SIGN_IN_FAILED)

    def login_failure(self) -> HttpResponse:
        return _fail(self.request, SIGN_IN_FAILED)
