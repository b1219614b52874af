"""manage.py search_reindex: build the message search index again, for CHAT_SEARCH_CONFIG as set now.

The index stems words as the config said when it was built (the migration
built it); after changing CHAT_SEARCH_CONFIG, searches use the new config
and, until this runs, find words as the old index split them (PostgreSQL
also stops using the index: every search reads every message).
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand

from rooms.models import Message
from rooms.search.index import search_index_rebuild


class Command(BaseCommand):
    help = "Build the message search index again for CHAT_SEARCH_CONFIG (after changing it)."

    def handle(self, *args, **options) -> None:
        search_index_rebuild()
        count = Message.objects.count()
        self.stdout.write(f"Search index built for {settings.CHAT_SEARCH_CONFIG!r} over {count} message(s).")
