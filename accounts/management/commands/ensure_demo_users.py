"""Create the embedded default's demo accounts, passwords kept from one start to the next; print them."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

DEMO_USERS = [
    # (username, display name, is staff)
    ("alice", "Alice", False),
    ("bob", "Bob", False),
    ("admin", "Admin", True),
]
# Git-ignored: made on the first start, read at every later one.
PASSWORDS_FILE = Path(settings.BASE_DIR) / ".demo-passwords.json"


class Command(BaseCommand):
    help = (
        "Create demo accounts (alice, bob, admin) with random passwords, made once and kept in "
        ".demo-passwords.json (so a restart signs no one out). DEBUG only."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--passwords-file", type=Path, default=PASSWORDS_FILE, help="where they are kept")
        parser.add_argument("--new-passwords", action="store_true", help="make new ones (signs everyone out)")

    def handle(self, *args, passwords_file: Path, new_passwords: bool, **options) -> None:
        if not settings.DEBUG:
            raise CommandError("Demo accounts exist only with DJANGO_DEBUG on; never in production.")
        passwords = {} if new_passwords else _read(passwords_file)
        for username, _name, _staff in DEMO_USERS:
            # Random: nobody knows them without this terminal or that file.
            passwords.setdefault(username, secrets.token_urlsafe(9))
        _write(passwords_file, passwords)
        User = get_user_model()
        self.stdout.write(f"Demo accounts (passwords kept in {passwords_file.name}):")
        for username, display_name, staff in DEMO_USERS:
            user, _ = User.objects.get_or_create(username=username)
            user.display_name = display_name
            user.is_staff = user.is_superuser = staff
            user.is_active = True
            # Set only when it differs: a new hash, even of the same password, ends every session.
            if not user.check_password(passwords[username]):
                user.set_password(passwords[username])
            user.save()
            self.stdout.write(f"  {username:<6} password: {passwords[username]}")


def _read(path: Path) -> dict[str, str]:
    try:
        kept = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(kept, dict):
        return {}
    return {name: value for name, value in kept.items() if isinstance(value, str) and value}


def _write(path: Path, passwords: dict[str, str]) -> None:
    # Readable by this user only: they are passwords.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        json.dump(passwords, file, indent=2)
