"""Search: the full-text index of message text (rooms.search.index), and messages by date."""

from django.db import migrations, models

from rooms.search.index import search_index_create, search_index_drop


def create(apps, schema_editor):
    # CONCURRENTLY on PostgreSQL: a site with history keeps storing messages while it builds.
    search_index_create(schema_editor, concurrently=True)


def drop(apps, schema_editor):
    search_index_drop(schema_editor)


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY runs outside a transaction
    dependencies = [("rooms", "0007_access")]

    operations = [
        migrations.AddIndex(
            model_name="message",
            index=models.Index(fields=["created_at", "id"], name="message_created_id"),
        ),
        migrations.RunPython(create, drop, elidable=False),
    ]
