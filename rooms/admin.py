from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from rooms.models import Message, Room
from rooms.services import message_delete, room_archive


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "archived", "created_at")
    list_filter = ("archived",)
    search_fields = ("name", "slug", "description")
    prepopulated_fields = {"slug": ("name",)}
    actions = ["archive_rooms"]

    @admin.action(description="Archive selected rooms (closes their sockets)")
    def archive_rooms(self, request: HttpRequest, queryset: QuerySet[Room]) -> None:
        for room in queryset.filter(archived=False):
            room_archive(room=room)
        self.message_user(request, "Archived.", messages.SUCCESS)


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ("id", "room", "author", "short_text", "created_at", "deleted_at")
    list_filter = ("room", ("deleted_at", admin.EmptyFieldListFilter), "created_at")
    search_fields = ("text", "author__username", "author__display_name")
    list_select_related = ("room", "author")
    raw_id_fields = ("author",)
    readonly_fields = ("created_at", "client_id", "deleted_at")
    actions = ["delete_for_everyone"]

    @admin.display(description="text")
    def short_text(self, message: Message) -> str:
        return message.text[:80]

    @admin.action(description="Delete selected messages for everyone")
    def delete_for_everyone(self, request: HttpRequest, queryset: QuerySet[Message]) -> None:
        for message in queryset.filter(deleted_at__isnull=True).select_related("room"):
            message_delete(message=message, moderator=request.user)
        self.message_user(request, "Deleted.", messages.SUCCESS)
