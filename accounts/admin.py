from __future__ import annotations

import logging
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.models import SiteSession, User
from accounts.selectors import user_named_like
from accounts.services import user_deactivate
from accounts.sessions import sessions_end

logger = logging.getLogger(__name__)


class UnambiguousNameForm(forms.ModelForm):
    """Refuses a shown name that looks like someone else's (accounts.names), in any variant."""

    # The field the shown name comes from, to carry the error.
    name_field = "display_name"
    # Only a change to one of these can make a name clash: other saves (say,
    # deactivating someone who already looks like another) go through.
    name_fields = frozenset({"display_name", "first_name", "last_name", "username"})

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or self.cleaned_data
        if self.instance.pk and not self.name_fields & set(self.changed_data):
            return cleaned
        full_name = f"{cleaned.get('first_name', '')} {cleaned.get('last_name', '')}".strip()
        username = cleaned.get("username") or getattr(self.instance, "username", "")
        shown = cleaned.get("display_name") or full_name or username
        other = user_named_like(name=shown, other_than=self.instance.pk) if shown else None
        if other is not None:
            raise ValidationError(
                {
                    self.name_field: f"“{shown}” looks like the name of {other.get_display_name()} "
                    f"({other.username}): choose a name people can tell apart."
                }
            )
        return cleaned


class ChatUserChangeForm(UnambiguousNameForm, UserChangeForm):
    pass


class ChatUserCreationForm(UnambiguousNameForm, AdminUserCreationForm):
    name_field = "username"


@admin.register(User)
class ChatUserAdmin(UserAdmin):
    fieldsets = (*(UserAdmin.fieldsets or ()), ("Chat", {"fields": ("display_name",)}))
    list_display = ("username", "display_name", "email", "is_active", "is_staff")
    search_fields = ("username", "display_name", "email")
    actions = ["deactivate_users"]
    form = ChatUserChangeForm
    add_form = ChatUserCreationForm

    def save_model(self, request: HttpRequest, obj: User, form, change: bool) -> None:
        """Save the user; unticking "active" goes through user_deactivate so their sockets close (4401)."""
        deactivating = change and "is_active" in form.changed_data and not obj.is_active
        if deactivating:
            obj.is_active = True  # user_deactivate flips it and closes the sockets
        super().save_model(request, obj, form, change)
        if deactivating:
            user_deactivate(user=obj, moderator=request.user)

    @admin.action(description="Deactivate selected users (closes their sockets)", permissions=["change"])
    def deactivate_users(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        for user in queryset.filter(is_active=True):
            user_deactivate(user=user, moderator=request.user)
        self.message_user(request, "Deactivated.", messages.SUCCESS)


@admin.register(SiteSession)
class SiteSessionAdmin(admin.ModelAdmin):
    """Who is signed in where: deleting a session signs that browser out and closes its sockets (4401)."""

    list_display = ("user", "expire_date")
    list_select_related = ("user",)
    search_fields = ("user__username", "user__display_name")
    fields = ("user", "expire_date")
    readonly_fields = fields
    actions = ["end_sessions"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def delete_model(self, request: HttpRequest, obj: SiteSession) -> None:
        self.delete_queryset(request, SiteSession.objects.filter(pk=obj.pk))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[SiteSession]) -> None:
        ended = sessions_end(queryset)
        logger.info("%s sessions ended by %s", ended, request.user)

    @admin.action(
        description="End selected sessions (signs out, closes their sockets)", permissions=["delete"]
    )
    def end_sessions(self, request: HttpRequest, queryset: QuerySet[SiteSession]) -> None:
        self.delete_queryset(request, queryset)
        self.message_user(request, "Ended.", messages.SUCCESS)
