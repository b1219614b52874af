"""Keep a signed-in session tied to the provider (mozilla-django-oidc's SessionRefresh)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils.deprecation import MiddlewareMixin
from django.utils.functional import cached_property
from mozilla_django_oidc.middleware import SessionRefresh

from accounts.discovery import ProviderSettings, ProviderUnavailable

SESSION_EXPIRED = "Your session needs a fresh sign-in."


class ProviderSessionRefresh(ProviderSettings, SessionRefresh):
    """Re-check the provider every OIDC_RENEW_ID_TOKEN_EXPIRY_SECONDS.

    Pages go through a silent prompt=none round trip; JSON endpoints (the room
    page's token fetch) cannot follow a redirect to the provider, so they get a
    401 JSON answer the page understands, as for any signed-out request.
    """

    def __init__(self, get_response) -> None:
        # Skip SessionRefresh.__init__: it discovers endpoints at process start.
        MiddlewareMixin.__init__(self, get_response)

    @cached_property
    def exempt_urls(self) -> set[str]:
        """Paths never sent round the provider: the sign-in flow itself, sign-out, health."""
        names = ["oidc_authentication_init", "oidc_authentication_callback", "accounts:logout", "healthz"]
        return {reverse(name) for name in names}

    def process_request(self, request: HttpRequest) -> HttpResponse | None:
        if not settings.OIDC_ENABLED:
            return None
        try:
            response = super().process_request(request)
        except ProviderUnavailable:
            # The provider is down: keep serving the session we have rather than lock everyone out.
            return None
        if isinstance(response, HttpResponseRedirect) and _wants_json(request):
            return JsonResponse(
                {"error": "session_expired", "detail": SESSION_EXPIRED, "refresh_url": response.url},
                status=401,
            )
        return response


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")
