from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.ChatLoginView.as_view(), name="login"),
    path("logout/", views.logout, name="logout"),
]
