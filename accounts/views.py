"""Landing, sign-in and sign-out."""

from __future__ import annotations

from django.conf import settings
from django.contrib import auth
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from rooms.services import user_sockets_close


@require_GET
def landing(request: HttpRequest) -> HttpResponse:
    """The front page; signed-in people go straight to the rooms."""
    if request.user.is_authenticated:
        return redirect("rooms:dashboard")
    return render(request, "landing.html")


class ChatLoginView(LoginView):
    """Django's username/password sign-in, for admins and the embedded default."""

    redirect_authenticated_user = True
    extra_context = {
        "local_login_enabled": True,
        "oidc_enabled": False,
        "demo_accounts": settings.DEBUG,
    }


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    """End the session and close every socket the user has open (4401)."""
    if request.user.is_authenticated:
        user_sockets_close(user_id=request.user.pk)
    auth.logout(request)
    return redirect(settings.LOGOUT_REDIRECT_URL)
