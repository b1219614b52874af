"""Which shared-state kinds this run tests: Redis too when the suite runs on it (REDIS_URL)."""

import os

# The embedded-default pass has no Redis; the services pass (REDIS_URL set) tests both.
KINDS = ["memory", "redis"] if os.environ.get("REDIS_URL") else ["memory"]
