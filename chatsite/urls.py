from django.contrib import admin
from django.urls import include, path

from accounts.views import landing
from chatsite.health import healthz
from rooms.search.views import search

urlpatterns = [
    path("", landing, name="landing"),
    path("accounts/", include("accounts.urls")),
    path("oidc/", include("accounts.oidc_urls")),
    path("rooms/", include("rooms.urls")),
    path("search/", search, name="search"),
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
]

handler400 = "chatsite.errors.bad_request"
handler403 = "chatsite.errors.permission_denied"
handler404 = "chatsite.errors.page_not_found"
handler500 = "chatsite.errors.server_error"
