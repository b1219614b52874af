from django.urls import path

from rooms import views

app_name = "rooms"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    # Slugs cannot contain dots, so this never shadows a room.
    path("online.json", views.online_counts, name="online_counts"),
    path("token.json", views.dashboard_token, name="dashboard_token"),
    path("people.json", views.people, name="people"),
    path("direct.new", views.direct_open, name="direct_open"),
    path("<slug:slug>/", views.room_detail, name="room_detail"),
    path("<slug:slug>/token/", views.room_token, name="room_token"),
    path("<slug:slug>/messages/", views.room_messages, name="room_messages"),
    path("<slug:slug>/events/", views.room_events, name="room_events"),
    path("<slug:slug>/people/", views.room_people, name="room_people"),
    path(
        "<slug:slug>/messages/<int:message_id>/delete/",
        views.message_moderate_delete,
        name="message_moderate_delete",
    ),
]
