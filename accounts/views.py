"""Landing, sign-in and sign-out."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import auth
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect, render, resolve_url
from django.views.decorators.http import require_GET, require_POST

from accounts.discovery import ProviderUnavailable, provider_setting

logger = logging.getLogger(__name__)

LOCAL_LOGIN_DISABLED = "Sign in with the identity provider; local accounts are off on this site."


@require_GET
def landing(request: HttpRequest) -> HttpResponse:
    """The front page; signed-in people go straight to the rooms."""
    if request.user.is_authenticated:
        return redirect("rooms:dashboard")
    return render(request, "landing.html")


class ChatLoginView(LoginView):
    """The sign-in page: the provider's button, and local accounts where enabled."""

    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not settings.LOCAL_LOGIN_ENABLED:
            return HttpResponseForbidden(LOCAL_LOGIN_DISABLED)
        return super().post(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(
            local_login_enabled=settings.LOCAL_LOGIN_ENABLED,
            oidc_enabled=settings.OIDC_ENABLED,
            oidc_provider_name=settings.OIDC_PROVIDER_NAME,
            demo_accounts=settings.DEBUG and settings.LOCAL_LOGIN_ENABLED,
            **kwargs,
        )


def sign_in_locked_out(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None
) -> HttpResponse:
    """django-axes' answer to a sign-in while locked out: 429, saying for how long and what to do."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    response = render(
        request,
        "registration/locked_out.html",
        {"failure_limit": settings.AXES_FAILURE_LIMIT, "minutes": minutes},
        status=429,
    )
    response["Retry-After"] = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    return response


def provider_logout_url(request: HttpRequest) -> str | None:
    """Where RP-initiated logout sends the browser, if the provider supports it."""
    id_token = request.session.get("oidc_id_token")
    if not (settings.OIDC_ENABLED and id_token):
        return None
    try:
        end_session = provider_setting("OIDC_OP_LOGOUT_ENDPOINT", None)
    except ProviderUnavailable:
        end_session = None  # Still sign out of the site.
    if not end_session:
        return None
    query = urlencode(
        {
            "id_token_hint": id_token,
            "post_logout_redirect_uri": request.build_absolute_uri(resolve_url(settings.LOGOUT_REDIRECT_URL)),
            "client_id": settings.OIDC_RP_CLIENT_ID,
        }
    )
    return f"{end_session}{'&' if '?' in end_session else '?'}{query}"


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    """End the session, which closes its sockets (4401, accounts.sessions), and sign out at the provider too.

    The person's other sessions (another browser) and their sockets go on.
    """
    next_url = provider_logout_url(request)
    if request.user.is_authenticated:
        logger.info("user %s signed out", request.user.pk)
    auth.logout(request)
    return redirect(next_url or settings.LOGOUT_REDIRECT_URL)
