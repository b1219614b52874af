"""The OIDC endpoints: mozilla-django-oidc's sign-in views, failing politely, and back-channel logout.

Every way a sign-in can fail (provider down or slow, tampered state, a
refused ID token) ends on the sign-in page with a message, never in a 500.
"""

from __future__ import annotations

import logging

import requests
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import View
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from accounts.backends import ProviderBackend
from accounts.discovery import ProviderSettings, ProviderUnavailable
from accounts.logout_tokens import LogoutTokenInvalid, logout_token_verify, provider_logout
from accounts.sessions import PROVIDER_SID_KEY

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

    def login_success(self) -> HttpResponse:
        """Signed in: keep the provider's session id (its `sid`) with the session, for back-channel logout."""
        response = super().login_success()
        self.request.session[PROVIDER_SID_KEY] = getattr(self.request, "provider_sid", "")
        return response

    def login_failure(self) -> HttpResponse:
        return _fail(self.request, SIGN_IN_FAILED)


@method_decorator(csrf_exempt, name="dispatch")
class BackChannelLogoutView(ProviderViewMixin):
    """The `backchannel_logout_uri` (OpenID Connect Back-Channel Logout 1.0).

    The provider POSTs `logout_token` from its own server, with no cookies:
    hence no CSRF token. 200 once the sessions it names ended (none is fine);
    400 with a reason when the token fails a check, and then nothing changed.
    """

    http_method_names = ["post"]

    def post(self, request: HttpRequest) -> HttpResponse:
        response: HttpResponse
        try:
            logout = logout_token_verify(request.POST.get("logout_token", ""), backend=ProviderBackend())
            ended = provider_logout(request=logout)
        except LogoutTokenInvalid as refusal:
            logger.warning("back-channel logout refused: %s", refusal)
            answer = {"error": "invalid_request", "error_description": str(refusal)}
            response = JsonResponse(answer, status=400)
        else:
            logger.info("back-channel logout from %s ended %s sessions", logout.issuer, ended)
            response = HttpResponse(status=200)
        response["Cache-Control"] = "no-store"
        return response
