from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from rooms.message_text import EMOJI_MAX_LENGTH


def new_epoch() -> str:
    """A fresh epoch: clients holding seqs of another epoch replace their view."""
    return uuid.uuid4().hex


class LoggedModel(models.Model):
    """A model with columns only the services write, each with its own UPDATE.

    A plain save() of a row loaded earlier (the admin's change form, say)
    would write them back as they were then: a room's seq would go back and
    every later message in it would collide with one already stored.
    """

    # The columns a plain save() of an existing row leaves alone.
    log_fields: tuple[str, ...] = ()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        """Save; for an existing row, every column but log_fields (unless update_fields names them)."""
        if not self._state.adding and kwargs.get("update_fields") is None and self.log_fields:
            kwargs["update_fields"] = [
                field.name
                for field in self._meta.concrete_fields
                if not field.primary_key and field.name not in self.log_fields
            ]
        super().save(*args, **kwargs)


class RoomKind(models.TextChoices):
    """Who may enter a room (rooms.access decides)."""

    PUBLIC = "public", "Public: everyone signed in"
    PRIVATE = "private", "Private: its members and granted groups"
    # A private room of exactly two people, opened by rooms.direct.direct_room_open.
    DIRECT = "direct", "Direct messages between two people"


class Room(LoggedModel):
    """A chat room; archived rooms are hidden and refuse new connections."""

    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=50, unique=True)
    description = models.CharField(max_length=300, blank=True)
    archived = models.BooleanField(default=False)
    kind = models.CharField(max_length=10, choices=RoomKind.choices, default=RoomKind.PUBLIC)
    # A direct room's two people, "<lower id>:<higher id>": one room per pair, however
    # many times (and however concurrently) either of them opens it.
    direct_key = models.CharField(max_length=41, unique=True, null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    # The room's event log: the seq of its latest event (0: none yet), assigned
    # only by rooms.services.room_seq_next. The epoch changes whenever seqs
    # could repeat (manage.py rooms_new_epoch, after restoring a backup).
    seq = models.PositiveBigIntegerField(default=0, editable=False)
    epoch = models.CharField(max_length=32, default=new_epoch, editable=False)

    log_fields = ("seq", "epoch")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Message(LoggedModel):
    """A message as stored before it is broadcast; deletion is soft for moderation."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="messages")
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    client_id = models.CharField(max_length=64, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    # When the author last changed the text (None: never); earlier texts are its revisions.
    edited_at = models.DateTimeField(null=True, blank=True)
    # What every frame of the message shows, kept beside the text so that
    # history and replays read one table: the ids of the people it mentions
    # (the Mention rows, which unread counts query) and its reactions as
    # outbound.reaction_summary builds them from the Reaction rows.
    mention_ids = models.JSONField(default=list, blank=True, editable=False)
    reactions = models.JSONField(default=list, blank=True, editable=False)
    # The room event that created the message, and the room's latest event
    # about it (its deletion, later an edit): replaying a room after seq N is
    # every message whose changed_seq is above N, in its latest state.
    seq = models.PositiveBigIntegerField(editable=False)
    changed_seq = models.PositiveBigIntegerField(editable=False)

    log_fields = ("seq", "changed_seq", "deleted_at", "edited_at", "mention_ids", "reactions")

    class Meta:
        ordering = ["id"]
        indexes = [
            # "Latest N in a room" and "after id in a room" both walk (room, id).
            models.Index(fields=["room", "id"], name="message_room_id"),
            # A resume: "what changed in this room after seq N".
            models.Index(fields=["room", "changed_seq"], name="message_room_changed_seq"),
            # Search: newest first, from a date back (before:), across rooms.
            models.Index(fields=["created_at", "id"], name="message_created_id"),
        ]
        constraints = [
            # One room event, one seq.
            models.UniqueConstraint(fields=["room", "seq"], name="message_unique_room_seq"),
            # A retried send (same client_id from the same author in the same room) is stored once.
            models.UniqueConstraint(
                fields=["room", "author", "client_id"],
                condition=~models.Q(client_id=""),
                name="message_unique_client_id",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.author} in {self.room}: {self.text[:40]}"


class MessageRevision(models.Model):
    """A text a message had before its author edited it (moderators read them in the admin)."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="revisions")
    text = models.TextField()
    # When this text was written: the message's creation or an earlier edit.
    written_at = models.DateTimeField()
    replaced_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["message", "id"]

    def __str__(self) -> str:
        return f"revision of message {self.message_id} written {self.written_at:%Y-%m-%d %H:%M}"


class Reaction(models.Model):
    """One person's emoji on one message; toggled by rooms.services.reaction_toggle."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="reaction_rows")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reactions")
    emoji = models.CharField(max_length=EMOJI_MAX_LENGTH)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["message", "user", "emoji"], name="reaction_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.emoji} by {self.user_id} on message {self.message_id}"


class Mention(models.Model):
    """A message names a person with @handle: what mention counts read.

    Kept in step with the text: an edit adds and drops rows, a deletion drops them all.
    """

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="mentions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mentions")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "message"], name="mention_unique")]

    def __str__(self) -> str:
        return f"user {self.user_id} mentioned in message {self.message_id}"


class RoomRead(models.Model):
    """How far one person has read in one room: the seq of the latest room event they saw.

    No row: they never entered the room, and nothing in it counts as unread
    for them (but mentions of them do). Written by rooms.services.room_read_mark.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="room_reads")
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="reads")
    seq = models.PositiveBigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "room"], name="room_read_unique")]

    def __str__(self) -> str:
        return f"user {self.user_id} read {self.room_id} up to {self.seq}"


class RoomMute(models.Model):
    """A moderator silenced a user in one room until a given time."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="mutes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="room_mutes")
    until = models.DateTimeField()
    reason = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["room", "user"], name="room_mute_unique")]

    def __str__(self) -> str:
        return f"{self.user} muted in {self.room} until {self.until:%Y-%m-%d %H:%M}"


class RoomMember(models.Model):
    """A person let into a private (or direct) room by name; groups let others in (RoomGroupGrant)."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="room_memberships"
    )
    added_at = models.DateTimeField(auto_now_add=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["room", "user"], name="room_member_unique")]
        indexes = [models.Index(fields=["user", "room"], name="room_member_user")]
        verbose_name = "member"

    def __str__(self) -> str:
        return f"{self.user} in {self.room}"


class RoomGroupGrant(models.Model):
    """Everyone the identity provider puts in `group` (the OIDC groups claim) may enter the room."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="group_grants")
    group = models.CharField(max_length=255, help_text="A group name exactly as the provider sends it.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["room", "group"], name="room_group_grant_unique")]
        indexes = [models.Index(fields=["group"], name="room_group_grant_group")]
        verbose_name = "group granted access"
        verbose_name_plural = "groups granted access"

    def __str__(self) -> str:
        return f"group {self.group} in {self.room}"
