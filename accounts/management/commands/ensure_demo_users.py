"""Create the embedded default's demo accounts with fresh passwords, and print them."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

DEMO_USERS = [
    # (username, display name, is staff)
    ("alice", "Alice", False),
    ("bob", "Bob", False),
    ("admin", "Admin", True),
]


class Command(BaseCommand):
    help = "Create demo accounts (alice, bob, admin) with new random passwords. DEBUG only."

    def handle(self, *args, **options) -> None:
        if not settings.DEBUG:
            raise CommandError("Demo accounts exist only with DJANGO_DEBUG on; never in production.")
        User = get_user_model()
        self.stdout.write("Demo accounts (new passwords at every start):")
        for username, display_name, staff in DEMO_USERS:
            # Fresh random passwords: nobody can know them without this terminal.
            password = secrets.token_urlsafe(9)
            user, _ = User.objects.get_or_create(username=username)
            user.display_name = display_name
            user.is_staff = user.is_superuser = staff
            user.is_active = True
            user.set_password(password)
            user.save()
            self.stdout.write(f"  {username:<6} password: {password}")
