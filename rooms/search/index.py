"""The full-text index of message text, built for the database in use and CHAT_SEARCH_CONFIG.

PostgreSQL: a stored generated column, rooms_message.search_vector =
to_tsvector(config, text), with a GIN index on it. Stored, so a search
checks a row without parsing its text again: the planner's row-by-row plans
(a common word walked newest first, a phrase rechecked) stay cheap, where an
index on the expression made each row cost a to_tsvector (measured in
docs/PERFORMANCE.md, "Search"). The model does not declare the column: the
database fills it and Django never writes it. SQLite: an FTS5 table over
rooms_message (external content: the text is not stored twice) that
triggers keep in step.

Either way the index changes in the transaction that writes the message, so
an edit is searched as edited from its commit on. Both follow the config
they were built with; after changing CHAT_SEARCH_CONFIG, `manage.py
search_reindex` builds them again.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.models.expressions import RawSQL

POSTGRES_COLUMN = "search_vector"
POSTGRES_INDEX = "message_text_search"
SQLITE_TABLE = "rooms_message_search"
# FTS5 tokenizers by search config: SQLite has an English stemmer (porter) and no other.
SQLITE_TOKENIZERS = {"english": "porter unicode61"}
SQLITE_DEFAULT_TOKENIZER = "unicode61"


def text_vector() -> RawSQL:
    """The indexed tsvector of a message's text (PostgreSQL), for filtering on."""
    # The column's name is a constant of this module.
    return RawSQL(f'"rooms_message"."{POSTGRES_COLUMN}"', [], output_field=SearchVectorField())  # noqa: S611


def sqlite_tokenizer(config: str) -> str:
    """The FTS5 tokenizer standing in for a PostgreSQL search config."""
    return SQLITE_TOKENIZERS.get(config, SQLITE_DEFAULT_TOKENIZER)


def _postgres_statements(config: str, *, concurrently: bool) -> list[str]:
    # DDL takes no parameters; settings accepts only a name of letters, digits, _ and . for config.
    how = "CONCURRENTLY " if concurrently else ""
    return [
        f"ALTER TABLE rooms_message ADD COLUMN {POSTGRES_COLUMN} tsvector GENERATED ALWAYS AS "
        f"(to_tsvector('{config}'::regconfig, COALESCE(text, ''))) STORED",
        f"CREATE INDEX {how}{POSTGRES_INDEX} ON rooms_message USING gin ({POSTGRES_COLUMN})",
        # A new index has no statistics: without them the planner guessed 5,000 rows for every
        # word, and a rare word took seconds instead of a millisecond (docs/PERFORMANCE.md).
        "ANALYZE rooms_message",
    ]


def _sqlite_statements(config: str) -> list[str]:
    # Every name here is a constant of this module; nothing typed by anyone is in these statements.
    table = SQLITE_TABLE
    add = f"INSERT INTO {table}(rowid, text) VALUES (new.id, new.text);"  # noqa: S608
    remove = f"INSERT INTO {table}({table}, rowid, text) VALUES ('delete', old.id, old.text);"  # noqa: S608
    return [
        f"CREATE VIRTUAL TABLE {table} USING fts5(text, content='rooms_message', content_rowid='id', "
        f"tokenize='{sqlite_tokenizer(config)}')",
        f"CREATE TRIGGER {table}_insert AFTER INSERT ON rooms_message BEGIN {add} END",
        f"CREATE TRIGGER {table}_delete AFTER DELETE ON rooms_message BEGIN {remove} END",
        f"CREATE TRIGGER {table}_update AFTER UPDATE OF text ON rooms_message BEGIN {remove} {add} END",
        f"INSERT INTO {table}({table}) VALUES ('rebuild')",  # noqa: S608
    ]


def search_index_create(
    schema_editor: BaseDatabaseSchemaEditor, *, config: str | None = None, concurrently: bool = False
) -> None:
    """Build the index of every message's text (of CHAT_SEARCH_CONFIG unless `config` is given).

    PostgreSQL fills the column for every message at once (a rewrite of the
    table, which holds its lock meanwhile); `concurrently` (outside a
    transaction) then builds the index while messages are stored.
    """
    config = config or settings.CHAT_SEARCH_CONFIG
    vendor = schema_editor.connection.vendor
    statements = []
    if vendor == "postgresql":
        statements = _postgres_statements(config, concurrently=concurrently)
    elif vendor == "sqlite":
        statements = _sqlite_statements(config)
    for statement in statements:
        schema_editor.execute(statement)


def search_index_drop(schema_editor: BaseDatabaseSchemaEditor) -> None:
    """Remove the index (whatever config it was built with)."""
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {POSTGRES_INDEX}")
        schema_editor.execute(f"ALTER TABLE rooms_message DROP COLUMN IF EXISTS {POSTGRES_COLUMN}")
    elif vendor == "sqlite":
        for trigger in ("insert", "delete", "update"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {SQLITE_TABLE}_{trigger}")
        schema_editor.execute(f"DROP TABLE IF EXISTS {SQLITE_TABLE}")


def search_index_rebuild(*, config: str | None = None) -> None:
    """Build the index again for CHAT_SEARCH_CONFIG (or `config`), in one transaction.

    Searches go on with the old index until it commits; messages wait to be
    stored meanwhile: PostgreSQL rewrites the table (about 30 s per million
    messages here, docs/PERFORMANCE.md), SQLite refills its FTS5 table.
    """
    with connection.schema_editor() as editor:
        search_index_drop(editor)
        search_index_create(editor, config=config)


def search_index_is_current(database: BaseDatabaseWrapper, *, config: str | None = None) -> bool:
    """Whether the index was built for CHAT_SEARCH_CONFIG (or `config`): else run search_reindex."""
    config = config or settings.CHAT_SEARCH_CONFIG
    with database.cursor() as cursor:
        if database.vendor == "postgresql":
            cursor.execute(
                "SELECT generation_expression FROM information_schema.columns "
                "WHERE table_name = 'rooms_message' AND column_name = %s",
                [POSTGRES_COLUMN],
            )
            column = cursor.fetchone()
            cursor.execute("SELECT 1 FROM pg_indexes WHERE indexname = %s", [POSTGRES_INDEX])
            indexed = cursor.fetchone() is not None
            return (
                column is not None and f"to_tsvector('{config}'::regconfig" in (column[0] or "") and indexed
            )
        if database.vendor == "sqlite":
            cursor.execute("SELECT sql FROM sqlite_master WHERE name = %s", [SQLITE_TABLE])
            row = cursor.fetchone()
            # Django rebuilds a SQLite table to alter it, and the triggers go with the old one.
            cursor.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'rooms_message' "
                "AND name IN (%s, %s, %s)",
                [f"{SQLITE_TABLE}_{trigger}" for trigger in ("insert", "delete", "update")],
            )
            triggers = cursor.fetchone()[0]
            return row is not None and f"tokenize='{sqlite_tokenizer(config)}'" in row[0] and triggers == 3
    return False
