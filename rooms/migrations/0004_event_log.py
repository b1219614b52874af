"""The per-room event log: seq and epoch on rooms, seq and changed_seq on messages.

Messages stored before the log get the seqs 1, 2, 3, ... of their room in id
order (a deleted one's deletion is taken as happening then), and each room's
seq continues from its last message.
"""

from django.db import migrations, models

import rooms.models


def number_existing_messages(apps, schema_editor):
    Room = apps.get_model("rooms", "Room")
    Message = apps.get_model("rooms", "Message")
    messages, room_table = Message._meta.db_table, Room._meta.db_table
    # Set-based, in two statements whatever the number of messages (SQLite 3.33+ and PostgreSQL).
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {messages} SET seq = numbered.n, changed_seq = numbered.n FROM ("  # noqa: S608
            f"SELECT id, ROW_NUMBER() OVER (PARTITION BY room_id ORDER BY id) AS n FROM {messages}"
            f") AS numbered WHERE {messages}.id = numbered.id"
        )
        cursor.execute(
            f"UPDATE {room_table} SET seq = COALESCE("  # noqa: S608
            f"(SELECT MAX(seq) FROM {messages} WHERE room_id = {room_table}.id), 0)"
        )
    for room in Room.objects.only("pk"):
        Room.objects.filter(pk=room.pk).update(epoch=rooms.models.new_epoch())


class Migration(migrations.Migration):
    dependencies = [
        ("rooms", "0003_room_mute"),
    ]

    operations = [
        migrations.AddField(
            model_name="room",
            name="seq",
            field=models.PositiveBigIntegerField(default=0, editable=False),
        ),
        migrations.AddField(
            model_name="room",
            name="epoch",
            field=models.CharField(default=rooms.models.new_epoch, editable=False, max_length=32),
        ),
        migrations.AddField(
            model_name="message",
            name="seq",
            field=models.PositiveBigIntegerField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="message",
            name="changed_seq",
            field=models.PositiveBigIntegerField(editable=False, null=True),
        ),
        migrations.RunPython(number_existing_messages, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="message",
            name="seq",
            field=models.PositiveBigIntegerField(editable=False),
        ),
        migrations.AlterField(
            model_name="message",
            name="changed_seq",
            field=models.PositiveBigIntegerField(editable=False),
        ),
        migrations.AddIndex(
            model_name="message",
            index=models.Index(fields=["room", "changed_seq"], name="message_room_changed_seq"),
        ),
        migrations.AddConstraint(
            model_name="message",
            constraint=models.UniqueConstraint(fields=("room", "seq"), name="message_unique_room_seq"),
        ),
    ]
