from django.contrib import admin
from django.urls import include, path

from accounts.views import landing
from chatsite.health import healthz

urlpatterns = [
    path("", landing, name="landing"),
    path("accounts/", include("accounts.urls")),
    path("oidc/", include("accounts.oidc_urls")),
    path("rooms/", include("rooms.urls")),
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
]
