"""manage.py rooms_new_epoch: give rooms a new epoch, after restoring the database from a backup.

A restored room's seqs go back and will be taken again by new events; a
client that saw the lost ones must not take the new ones for them. A new
epoch makes every client resuming with the old one start over from the
latest history (`recovered: false`).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from rooms.services import room_epoch_renew


class Command(BaseCommand):
    help = "Give rooms a new event-log epoch (run after restoring a backup): clients start over."

    def add_arguments(self, parser) -> None:
        parser.add_argument("slugs", nargs="*", help="rooms to renew (default: every room)")

    def handle(self, *args, slugs: list[str], **options) -> None:
        renewed = room_epoch_renew(slugs=slugs or None)
        self.stdout.write(f"{renewed} room(s) have a new epoch.")
