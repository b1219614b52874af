from django.db import migrations, models

from accounts.names import name_key


def fill_name_keys(apps, schema_editor):
    """Every existing user's key, from the name they are shown by (as User.get_display_name)."""
    User = apps.get_model("accounts", "User")
    users = list(User.objects.only("display_name", "first_name", "last_name", "username"))
    for user in users:
        full_name = f"{user.first_name} {user.last_name}".strip()
        user.name_key = name_key(user.display_name or full_name or user.username)[:255]
    User.objects.bulk_update(users, ["name_key"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_ticket_generation"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="name_key",
            field=models.CharField(db_index=True, default="", editable=False, max_length=255),
        ),
        migrations.RunPython(fill_name_keys, migrations.RunPython.noop),
    ]
