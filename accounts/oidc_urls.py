"""mozilla-django-oidc's URL names, served by our views (its own logout view is left out:
signing out goes through accounts:logout, which also closes the user's sockets)."""

from django.urls import path

from accounts.oidc_views import BackChannelLogoutView, ProviderCallbackView, ProviderSignInView

urlpatterns = [
    path("authenticate/", ProviderSignInView.as_view(), name="oidc_authentication_init"),
    path("callback/", ProviderCallbackView.as_view(), name="oidc_authentication_callback"),
    path("backchannel-logout/", BackChannelLogoutView.as_view(), name="oidc_backchannel_logout"),
]
