"""What storing a message costs the server beyond its SQL: the hop to Channels' database thread.

    DATABASE_URL=sqlite:////tmp/letstalk-bench.sqlite3 DJANGO_ENV_FILE=/dev/null DJANGO_DEBUG=0 \
        DJANGO_SECRET_KEY=bench-only-NOT-for-production-7q2x9v4k1m8z3w6r5t0y DJANGO_ALLOWED_HOSTS=localhost \
        CHAT_JWT_SECRET="$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')" \
        taskset -c 1 .venv/bin/python bench/database_hop.py [ROUNDS]

(production settings, as bench/serve.sh runs the server: DEBUG would log every query).

Django's ORM runs only outside the event loop, so every store goes to the
one thread Channels gives async code for the database and back
(`database_sync_to_async`). On one core that is a handful of context
switches and two hand-overs of the GIL. Three figures, each the process's
CPU per call over ROUNDS calls (default 3,000), one after another:

- the hop alone: `database_sync_to_async` of a function that does nothing;
- one message stored alone (`message_create_many` of one draft, as a quiet
  room's message is), ROUNDS times in a row on one worker thread (one hop
  for all): the SQL and the ORM;
- the same through the hop, one call each, as the server stores it.

It stores twice ROUNDS messages in room "general" of the database it is given
(users from bench/prepare_db.py): never point it at a production database.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatsite.settings")


async def cpu_per_call(rounds: int, call: Callable[[], Awaitable[object]]) -> float:
    """Microseconds of this process's CPU per call, `rounds` calls one after another."""
    await call()  # the thread, the connection and the statements are ready
    started = time.process_time()
    for _ in range(rounds):
        await call()
    return (time.process_time() - started) / rounds * 1e6


async def measure(rounds: int) -> None:
    from channels.db import database_sync_to_async

    from accounts.models import User
    from rooms.models import Room
    from rooms.services import MessageDraft, message_create_many

    room, author = await database_sync_to_async(
        lambda: (Room.objects.get(slug="general"), User.objects.get(pk=1))
    )()

    def store_one() -> object:
        draft = MessageDraft(room=room, author=author, text="hello", client_id=uuid.uuid4().hex)
        return message_create_many([draft])

    async def nothing_there() -> None:
        await database_sync_to_async(lambda: None)()

    async def store_here() -> None:
        # Django refuses the ORM on the loop's thread; a thread of our own runs it inline.
        await asyncio.to_thread(lambda: [store_one() for _ in range(rounds)])

    hop = await cpu_per_call(rounds, nothing_there)
    started = time.process_time()
    await store_here()
    inline = (time.process_time() - started) / rounds * 1e6
    through = await cpu_per_call(rounds, database_sync_to_async(store_one))
    print(f"the hop alone:                 {hop:7.1f} us CPU per call")
    print(f"one message stored, no hop:    {inline:7.1f} us CPU per message")
    print(f"one message stored, with hop:  {through:7.1f} us CPU per message")


def main() -> None:
    import django

    django.setup()
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
    asyncio.run(measure(rounds))


if __name__ == "__main__":
    main()
