"""Two real server processes on one PostgreSQL database and one Redis, for the services pass."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from django.conf import settings

from tests.integration.room_client import RoomClient
from tests.servers import AsgiServer, RedisServer, manage, server_env, start_server

CREATE_USERS = (
    "from accounts.models import User\n"
    "for name in {names!r}:\n"
    "    user, _ = User.objects.get_or_create(username=name, defaults={{'display_name': name.title()}})\n"
    "    print(name, user.pk)\n"
)


def admin_url(database_url: str, name: str) -> str:
    """`database_url` with its database name replaced by `name`."""
    parts = urlsplit(database_url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@contextmanager
def postgres_database(prefix: str) -> Iterator[str]:
    """A new PostgreSQL database beside DATABASE_URL's, dropped at the end; its URL."""
    base = os.environ["DATABASE_URL"]
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url(base, "postgres"), autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin_url(base, name)
    finally:
        with psycopg.connect(admin_url(base, "postgres"), autocommit=True) as connection:
            connection.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


class Cluster:
    """Servers A and B, the users' ids, and what the shared database holds."""

    def __init__(
        self, servers: list[AsgiServer], users: dict[str, int], database: str, env: dict[str, str]
    ) -> None:
        self.a, self.b = servers
        self.users = users
        self.database = database
        self.env = env

    def client(self, server: AsgiServer, name: str, **options) -> RoomClient:
        return RoomClient(base_url=server.url, user_id=self.users[name], name=name.title(), **options)

    def stored_ids(self) -> list[int]:
        with psycopg.connect(self.database) as connection:
            rows = connection.execute("SELECT id FROM rooms_message ORDER BY id").fetchall()
        return [row[0] for row in rows]

    def stored_seqs(self, room: str) -> dict[int, int]:
        """The room's visible (not deleted) messages: id -> seq."""
        with psycopg.connect(self.database) as connection:
            rows = connection.execute(
                "SELECT m.id, m.seq FROM rooms_message m JOIN rooms_room r ON r.id = m.room_id "
                "WHERE r.slug = %s AND m.deleted_at IS NULL",
                [room],
            ).fetchall()
        return dict(rows)

    def room_seq(self, room: str) -> int:
        """The seq of the room's latest event."""
        with psycopg.connect(self.database) as connection:
            return connection.execute("SELECT seq FROM rooms_room WHERE slug = %s", [room]).fetchone()[0]

    def stop(self) -> None:
        for server in (self.a, self.b):
            server.stop()


def start_cluster(
    workdir: Path,
    *,
    database: str,
    redis_url: str,
    users: Sequence[str],
    servers: tuple[str, str] = ("uvicorn", "daphne"),
    **variables: str,
) -> Cluster:
    """Migrate `database`, create `users`, and start A and B (`servers`: uvicorn or daphne) on it.

    `variables` are the servers' extra environment (limits, intervals). The
    database may be shared by a module's tests: every message is deleted first.
    """
    env = server_env(
        DJANGO_DEBUG="1",
        DATABASE_URL=database,
        REDIS_URL=redis_url,
        CHAT_JWT_SECRET=settings.CHAT_JWT_SECRET,
        CHAT_JWT_ISSUER=settings.CHAT_JWT_ISSUER,
        **variables,
    )
    manage(env, "migrate", "--no-input")
    printed = manage(env, "shell", "-v", "0", "-c", CREATE_USERS.format(names=tuple(users)))
    ids = {name: int(pk) for name, pk in (line.split() for line in printed.splitlines() if line)}
    started: list[AsgiServer] = []
    try:
        for name, kind in zip("ab", servers, strict=True):
            started.append(start_server(env, workdir, name, server=kind))
    except BaseException:  # pytest.fail is an exception too: do not leave A running
        for server in started:
            server.stop()
        raise
    with psycopg.connect(database, autocommit=True) as connection:
        connection.execute("DELETE FROM rooms_message")
    return Cluster(servers=started, users=ids, database=database, env=env)


@contextmanager
def cluster_of_its_own(
    workdir: Path, *, prefix: str, users: Sequence[str] = ("alice", "bob")
) -> Iterator[Cluster]:
    """Servers A (uvicorn) and B (daphne) on a database and a Redis of one test's own, stopped after."""
    with postgres_database(prefix) as database:
        redis_server = RedisServer(workdir).start()
        try:
            started = start_cluster(workdir, database=database, redis_url=redis_server.url, users=users)
            try:
                yield started
            finally:
                started.stop()
        finally:
            redis_server.kill()
