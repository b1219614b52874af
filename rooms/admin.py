from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe

from accounts.models import User
from rooms.access import room_insiders
from rooms.models import Message, MessageRevision, Room, RoomGroupGrant, RoomKind, RoomMember, RoomMute
from rooms.services import message_delete, room_access_changed, room_archive, user_mute, user_unmute


class DirectRoomReadOnly:
    """A direct room's two people are fixed: it is theirs, not the admin's to hand on."""

    def has_add_permission(self, request: HttpRequest, obj: Room | None = None) -> bool:
        return obj is None or obj.kind != RoomKind.DIRECT

    def has_change_permission(self, request: HttpRequest, obj: Room | None = None) -> bool:
        return obj is None or obj.kind != RoomKind.DIRECT

    def has_delete_permission(self, request: HttpRequest, obj: Room | None = None) -> bool:
        return obj is None or obj.kind != RoomKind.DIRECT


class RoomMemberInline(DirectRoomReadOnly, admin.StackedInline):
    """People let into a private room by name."""

    # Stacked: a tabular inline's inputs have column headings but no labels (axe: label, critical).
    model = RoomMember
    fields = ("user", "added_by", "added_at")
    readonly_fields = ("added_by", "added_at")
    raw_id_fields = ("user",)
    extra = 0


class RoomGroupGrantInline(DirectRoomReadOnly, admin.StackedInline):
    """Identity-provider groups whose people may enter a private room."""

    model = RoomGroupGrant
    extra = 0

    def has_add_permission(self, request: HttpRequest, obj: Room | None = None) -> bool:
        return obj is None or obj.kind == RoomKind.PRIVATE


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "kind", "archived", "created_at")
    list_filter = ("kind", "archived")
    search_fields = ("name", "slug", "description")
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("who_is_in",)
    inlines = [RoomMemberInline, RoomGroupGrantInline]
    actions = ["archive_rooms"]

    def get_readonly_fields(self, request: HttpRequest, obj: Room | None = None) -> tuple[str, ...]:
        # A room's slug names its sockets' group: renamed, its open sockets would hear
        # nothing more (an access change included). A direct room stays direct.
        if obj is None:
            return self.readonly_fields
        if obj.kind == RoomKind.DIRECT:
            return ("kind", "slug", *self.readonly_fields)
        return ("slug", *self.readonly_fields)

    def get_prepopulated_fields(self, request: HttpRequest, obj: Room | None = None) -> dict:
        return self.prepopulated_fields if obj is None else {}

    def formfield_for_choice_field(self, db_field, request: HttpRequest, **kwargs):
        if db_field.name == "kind":
            kwargs["choices"] = [choice for choice in RoomKind.choices if choice[0] != RoomKind.DIRECT]
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    @admin.display(description="who may enter, and why")
    def who_is_in(self, room: Room) -> str:
        if room.pk is None or room.kind == RoomKind.PUBLIC:
            return "Everyone signed in (a public room)."
        insiders = room_insiders(room=room)
        if not insiders:
            return "No one yet: add members or grant groups below."
        lines = (
            f"{insider.user.get_display_name()} (@{insider.user.username}): {insider.why}"
            for insider in insiders
        )
        return format_html_join(mark_safe("<br>"), "{}", ((line,) for line in lines))

    def save_model(self, request: HttpRequest, obj: Room, form, change: bool) -> None:
        """Save the room; ticking "archived" goes through room_archive so its sockets close (4404)."""
        archiving = change and "archived" in form.changed_data and obj.archived
        if archiving:
            obj.archived = False  # room_archive flips it and tells the room
        super().save_model(request, obj, form, change)
        if archiving:
            room_archive(room=obj, moderator=request.user)

    def save_formset(self, request: HttpRequest, form, formset, change: bool) -> None:
        """Save members and groups; whoever gets added shows who added them."""
        for member in formset.save(commit=False):
            if (
                isinstance(member, RoomMember)
                and member.added_by_id is None
                and isinstance(request.user, User)
            ):
                member.added_by = request.user
            member.save()
        for removed in formset.deleted_objects:
            removed.delete()

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        """After members, groups or the kind changed: those who lost the room are thrown out (4403)."""
        super().save_related(request, form, formsets, change)
        kind_changed = change and "kind" in form.changed_data
        if kind_changed or any(formset.has_changed() for formset in formsets):
            room_access_changed(room=form.instance, moderator=request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Room | None = None) -> bool:
        # Deleting would drop the room's history under its open sockets: archive it instead.
        return False

    @admin.action(description="Archive selected rooms (closes their sockets)")
    def archive_rooms(self, request: HttpRequest, queryset: QuerySet[Room]) -> None:
        for room in queryset.filter(archived=False):
            room_archive(room=room, moderator=request.user)
        self.message_user(request, "Archived.", messages.SUCCESS)


class MessageRevisionInline(admin.TabularInline):
    """Every text a message had before its author edited it, oldest first: read-only."""

    model = MessageRevision
    fields = ("text", "written_at", "replaced_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name = "earlier text"
    verbose_name_plural = "earlier texts (edited by the author)"

    def has_add_permission(self, request: HttpRequest, obj: Message | None = None) -> bool:
        return False


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ("id", "room", "author", "short_text", "created_at", "edited_at", "deleted_at")
    list_filter = (
        "room",
        ("deleted_at", admin.EmptyFieldListFilter),
        ("edited_at", admin.EmptyFieldListFilter),
        "created_at",
    )
    search_fields = ("text", "author__username", "author__display_name")
    list_select_related = ("room", "author")
    # Messages are what people said: moderators can read and delete them, never rewrite or forge them.
    readonly_fields = (
        "room",
        "author",
        "text",
        "created_at",
        "edited_at",
        "client_id",
        "deleted_at",
        "reactions",
    )
    inlines = [MessageRevisionInline]
    actions = ["delete_for_everyone"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Message | None = None) -> bool:
        # A hard delete never reaches the screens showing the message: moderate with
        # "Delete selected messages for everyone", which soft-deletes and tells the room.
        return False

    @admin.display(description="text")
    def short_text(self, message: Message) -> str:
        return message.text[:80]

    @admin.action(description="Delete selected messages for everyone")
    def delete_for_everyone(self, request: HttpRequest, queryset: QuerySet[Message]) -> None:
        moderator = request.user
        if not isinstance(moderator, User):  # the admin lets only signed-in staff this far
            raise PermissionDenied
        for message in queryset.filter(deleted_at__isnull=True).select_related("room"):
            message_delete(message=message, by=moderator)
        self.message_user(request, "Deleted.", messages.SUCCESS)


@admin.register(RoomMute)
class RoomMuteAdmin(admin.ModelAdmin):
    """Mute someone in a room for a while: their messages there get an `error` frame `muted`."""

    list_display = ("user", "room", "until", "reason", "created_by", "created_at")
    list_filter = ("room",)
    search_fields = ("user__username", "user__display_name", "reason")
    raw_id_fields = ("user",)
    readonly_fields = ("created_by", "created_at")
    actions = ["lift_mutes"]

    def save_model(self, request: HttpRequest, obj: RoomMute, form, change: bool) -> None:
        # Through the service, so the user's open sockets learn it at once.
        user_mute(room=obj.room, user=obj.user, until=obj.until, moderator=request.user, reason=obj.reason)

    def delete_model(self, request: HttpRequest, obj: RoomMute) -> None:
        user_unmute(room=obj.room, user=obj.user, moderator=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[RoomMute]) -> None:
        for mute in queryset.select_related("room", "user"):
            user_unmute(room=mute.room, user=mute.user, moderator=request.user)

    @admin.action(description="Lift selected mutes now")
    def lift_mutes(self, request: HttpRequest, queryset: QuerySet[RoomMute]) -> None:
        self.delete_queryset(request, queryset)
        self.message_user(request, "Lifted.", messages.SUCCESS)
