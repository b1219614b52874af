from __future__ import annotations

import logging

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.models import User
from rooms.services import user_deactivate, user_sockets_close

logger = logging.getLogger(__name__)


@admin.register(User)
class ChatUserAdmin(UserAdmin):
    fieldsets = (*UserAdmin.fieldsets, ("Chat", {"fields": ("display_name",)}))
    list_display = ("username", "display_name", "email", "is_active", "is_staff")
    search_fields = ("username", "display_name", "email")
    actions = ["deactivate_users"]

    def save_model(self, request: HttpRequest, obj: User, form, change: bool) -> None:
        """Save the user; unticking "active" also closes their sockets (4401), as SPEC asks."""
        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data and not obj.is_active:
            logger.info("user %s (%s) deactivated by %s", obj.pk, obj, request.user)
            user_sockets_close(user_id=obj.pk)

    @admin.action(description="Deactivate selected users (closes their sockets)", permissions=["change"])
    def deactivate_users(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        for user in queryset.filter(is_active=True):
            user_deactivate(user=user, moderator=request.user)
        self.message_user(request, "Deactivated.", messages.SUCCESS)
