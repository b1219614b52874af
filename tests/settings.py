"""Test settings: the embedded default (SQLite, in-memory channel layer)."""

import os

# The embedded default is what `make run` serves; tests run on it too.
os.environ.setdefault("DJANGO_DEBUG", "1")
# A developer's .env must not change what the suite tests.
os.environ.setdefault("DJANGO_ENV_FILE", os.devnull)

from chatsite.settings import *  # noqa: F403

# Fast hashing: tests create many users.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Persistent connections would outlive each test's threads and keep the test
# database busy at teardown; the servers of the integration tests keep theirs.
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
