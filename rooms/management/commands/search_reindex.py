"""manage.py search_reindex: build the message search index again, for CHAT_SEARCH_CONFIG as set now.

The index stems words as the config said when it was built (the migration
built it); after changing CHAT_SEARCH_CONFIG, searches stem what is typed
with the new config and, until this runs, miss words the old index stemmed
otherwise. On PostgreSQL this rewrites the messages table in one
transaction: messages wait to be stored meanwhile (docs/PERFORMANCE.md).
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
