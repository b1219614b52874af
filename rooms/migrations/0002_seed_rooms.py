from django.db import migrations

SEED_ROOMS = [
    ("General", "general", "Anything goes."),
    ("Sports", "sports", "Scores, teams and the game last night."),
    ("Music", "music", "What are you listening to?"),
]


def seed_rooms(apps, schema_editor):
    Room = apps.get_model("rooms", "Room")
    for name, slug, description in SEED_ROOMS:
        Room.objects.get_or_create(slug=slug, defaults={"name": name, "description": description})


def unseed_rooms(apps, schema_editor):
    Room = apps.get_model("rooms", "Room")
    Room.objects.filter(slug__in=[slug for _, slug, _ in SEED_ROOMS], messages__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("rooms", "0001_initial")]

    operations = [migrations.RunPython(seed_rooms, unseed_rooms)]
