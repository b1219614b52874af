"""Create users 1..N in the bench database (run after `manage.py migrate`).

    DATABASE_URL=sqlite:////tmp/letstalk-bench.sqlite3 DJANGO_ENV_FILE=/dev/null DJANGO_DEBUG=1 \
        .venv/bin/python bench/prepare_db.py 1000

The load clients' tokens carry `sub` = a user id, so users 1..N must exist and be
active. Idempotent: existing ids are left alone. Never point it at a production
database: it creates accounts named bench-<id>.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatsite.settings")


def main(count: int) -> None:
    import django

    django.setup()
    from django.db import connection

    from accounts.models import User

    existing = set(User.objects.filter(pk__lte=count).values_list("pk", flat=True))
    missing = [
        User(pk=pk, username=f"bench-{pk}", display_name=f"user {pk}", is_active=True)
        for pk in range(1, count + 1)
        if pk not in existing
    ]
    User.objects.bulk_create(missing, batch_size=500)
    if connection.vendor == "postgresql":
        # Explicit ids leave the sequence behind; move it past them.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('accounts_user', 'id'), "
                "(SELECT MAX(id) FROM accounts_user))"
            )
    print(f"bench users: {len(existing)} existed, {len(missing)} created (ids 1..{count})")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
