"""Which shared-state kinds this run tests, and whether PostgreSQL and Redis answer.

`python -m tests.services DATABASE_URL REDIS_URL` exits 0 when both answer
(the Makefile's services pass asks before running).
"""

import os
import sys

# The embedded-default pass has no Redis; the services pass (REDIS_URL set) tests both.
KINDS = ["memory", "redis"] if os.environ.get("REDIS_URL") else ["memory"]


def services_answer(database_url: str, redis_url: str) -> bool:
    """True when PostgreSQL (its postgres database) and Redis both accept a connection."""
    import psycopg
    import redis

    try:
        server = database_url.rsplit("/", 1)[0]
        psycopg.connect(f"{server}/postgres", connect_timeout=2).close()
        redis.Redis.from_url(redis_url, socket_connect_timeout=2).ping()
    except (psycopg.Error, redis.RedisError, OSError):
        return False
    return True


if __name__ == "__main__":
    sys.exit(0 if services_answer(sys.argv[1], sys.argv[2]) else 1)
