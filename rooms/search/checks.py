"""A database check (manage.py migrate, check --database): the search index follows CHAT_SEARCH_CONFIG."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register
from django.db import DatabaseError, connections
from django.db.migrations.executor import MigrationExecutor

from rooms.search.index import search_index_is_current

STALE_INDEX = "rooms.W001"


@register(Tags.database)
def search_index_check(
    *, app_configs: Sequence[AppConfig] | None = None, databases: Sequence[str] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """Warn when the index was built for another config than CHAT_SEARCH_CONFIG (once it is migrated)."""
    warnings: list[CheckMessage] = []
    for alias in databases or []:
        connection = connections[alias]
        try:
            executor = MigrationExecutor(connection)
            if executor.migration_plan(executor.loader.graph.leaf_nodes()):
                continue  # not migrated yet: the migration builds it for the config as set
            current = search_index_is_current(connection)
        except DatabaseError:
            continue
        if not current:
            warnings.append(
                Warning(
                    "The message search index was not built for "
                    f"CHAT_SEARCH_CONFIG={settings.CHAT_SEARCH_CONFIG!r}.",
                    hint="Run manage.py search_reindex: until then searches miss words stemmed otherwise.",
                    id=STALE_INDEX,
                )
            )
    return warnings
