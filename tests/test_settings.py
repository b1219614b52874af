"""Production settings refuse to start on weak secrets and pass Django's deploy checks."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from chatsite.settings import _DEV_JWT_SECRET

REPO_ROOT = Path(__file__).resolve().parent.parent
GOOD_SECRET_KEY = secrets.token_urlsafe(50)
GOOD_JWT_SECRET = secrets.token_urlsafe(32)
DJANGO_SETUP = "import django; django.setup()"


def production_env(**variables: str) -> dict[str, str]:
    """This environment minus every DJANGO_*/CHAT_* variable, in production mode, plus `variables`."""
    env = {name: value for name, value in os.environ.items() if not name.startswith(("DJANGO_", "CHAT_"))}
    # DJANGO_ENV_FILE at nothing: a developer's .env must not decide these tests.
    defaults = {
        "DJANGO_SETTINGS_MODULE": "chatsite.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_ENV_FILE": os.devnull,
    }
    env.update({**defaults, **variables})
    return env


def run_python(*args: str, **variables: str) -> subprocess.CompletedProcess[str]:
    """Run this interpreter in the repository root with a production environment."""
    return subprocess.run(
        [sys.executable, *args],
        cwd=REPO_ROOT,
        env=production_env(**variables),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_refuses_to_start_without_a_secret_key():
    """No DJANGO_SECRET_KEY with debug off: the process exits naming the variable."""
    result = run_python("-c", DJANGO_SETUP, CHAT_JWT_SECRET=GOOD_JWT_SECRET)

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


@pytest.mark.parametrize(
    "weak_key",
    [
        "short",
        "a" * 60,
        "django-insecure-dev-only-let-s-talk-do-not-use-in-production",
        "django-insecure-" + secrets.token_urlsafe(50),
    ],
)
def test_production_refuses_to_start_with_a_weak_secret_key(weak_key):
    """A short, repetitive or django-insecure secret key stops the start, naming the variable."""
    result = run_python("-c", DJANGO_SETUP, DJANGO_SECRET_KEY=weak_key, CHAT_JWT_SECRET=GOOD_JWT_SECRET)

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_production_refuses_to_start_without_a_jwt_secret():
    """No CHAT_JWT_SECRET with debug off: the process exits naming the variable."""
    result = run_python("-c", DJANGO_SETUP, DJANGO_SECRET_KEY=GOOD_SECRET_KEY)

    assert result.returncode != 0
    assert "CHAT_JWT_SECRET" in result.stderr


def test_production_refuses_a_jwt_secret_shorter_than_32_bytes():
    """A good secret key but a 31-byte CHAT_JWT_SECRET stops the start, naming CHAT_JWT_SECRET."""
    result = run_python("-c", DJANGO_SETUP, DJANGO_SECRET_KEY=GOOD_SECRET_KEY, CHAT_JWT_SECRET="x" * 31)

    assert result.returncode != 0
    assert "CHAT_JWT_SECRET" in result.stderr


def test_production_refuses_the_dev_only_jwt_secret():
    """The embedded default's CHAT_JWT_SECRET (public, in the source) never signs production tokens."""
    result = run_python(
        "-c", DJANGO_SETUP, DJANGO_SECRET_KEY=GOOD_SECRET_KEY, CHAT_JWT_SECRET=_DEV_JWT_SECRET
    )

    assert result.returncode != 0
    assert "CHAT_JWT_SECRET" in result.stderr


@pytest.mark.parametrize("repetitive", ["a" * 64, "abcd" * 16], ids=["one-character", "four-characters"])
def test_production_refuses_a_repetitive_jwt_secret(repetitive):
    """32+ bytes are not enough when they are one character repeated: the key must look random."""
    result = run_python("-c", DJANGO_SETUP, DJANGO_SECRET_KEY=GOOD_SECRET_KEY, CHAT_JWT_SECRET=repetitive)

    assert result.returncode != 0
    assert "CHAT_JWT_SECRET" in result.stderr


def test_production_refuses_the_jwt_secret_equal_to_the_secret_key():
    """The WebSocket ticket key must be separate from Django's SECRET_KEY."""
    result = run_python(
        "-c", DJANGO_SETUP, DJANGO_SECRET_KEY=GOOD_SECRET_KEY, CHAT_JWT_SECRET=GOOD_SECRET_KEY
    )

    assert result.returncode != 0
    assert "CHAT_JWT_SECRET" in result.stderr


def test_production_starts_with_good_secrets():
    """Strong, separate secrets let the production settings load."""
    result = run_python(
        "-c", DJANGO_SETUP, DJANGO_SECRET_KEY=GOOD_SECRET_KEY, CHAT_JWT_SECRET=GOOD_JWT_SECRET
    )

    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("hosts", ["*", "chat.example.com,*"])
def test_production_refuses_a_wildcard_in_allowed_hosts(hosts):
    """DJANGO_ALLOWED_HOSTS with '*' stops a production start: any Host (and Origin) would pass."""
    result = run_python(
        "-c",
        DJANGO_SETUP,
        DJANGO_SECRET_KEY=GOOD_SECRET_KEY,
        CHAT_JWT_SECRET=GOOD_JWT_SECRET,
        DJANGO_ALLOWED_HOSTS=hosts,
    )

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "DJANGO_ALLOWED_HOSTS" in result.stderr


def test_production_passes_the_deploy_checks():
    """`manage.py check --deploy` finds nothing to warn about in the production settings."""
    result = run_python(
        "manage.py",
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_SECRET_KEY=GOOD_SECRET_KEY,
        CHAT_JWT_SECRET=GOOD_JWT_SECRET,
        DJANGO_ALLOWED_HOSTS="chat.example.com",
    )

    assert result.returncode == 0, result.stderr + result.stdout


def test_env_example_lists_every_variable_the_settings_read():
    """.env.example documents every environment variable chatsite/settings.py reads."""
    source = (REPO_ROOT / "chatsite" / "settings.py").read_text()
    read = set(re.findall(r'env\.\w+\(\s*"([A-Z0-9_]+)"', source))
    example = (REPO_ROOT / ".env.example").read_text()
    listed = set(re.findall(r"^#?\s*([A-Z0-9_]+)=", example, re.MULTILINE))
    assert read
    assert read - listed == set()


def test_sites_on_two_redis_databases_do_not_share_pubsub_channels():
    """Pub/Sub ignores database numbers, so the layer's prefix carries the number."""
    show_prefix = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.CHANNEL_LAYERS['default']['CONFIG']['prefix'])"
    )
    prefixes = {
        run_python(
            "-c", show_prefix, DJANGO_DEBUG="1", REDIS_URL=f"redis://127.0.0.1:6379/{db}"
        ).stdout.strip()
        for db in (1, 2)
    }
    assert len(prefixes) == 2
    assert all(prefix.startswith("lets-talk.") for prefix in prefixes)
