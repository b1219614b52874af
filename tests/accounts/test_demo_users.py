"""ensure_demo_users: demo accounts for the embedded default, never in production."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import RequestFactory

from accounts.management.commands import ensure_demo_users as ensure_demo_users_command

pytestmark = pytest.mark.django_db

DEMO_USERNAMES = {"alice", "bob", "admin"}


def sign_in_request():
    """What the sign-in form hands authenticate(): django-axes needs the request."""
    return RequestFactory().post("/accounts/login/")


@pytest.fixture(autouse=True)
def passwords_file(tmp_path, monkeypatch) -> Path:
    """Where the command keeps the passwords: the test's own, never the checkout's."""
    path = tmp_path / "demo-passwords.json"
    monkeypatch.setattr(ensure_demo_users_command, "PASSWORDS_FILE", path)
    return path


def ensure_demo_users(*args: str) -> dict[str, str]:
    """Run the command and return the passwords it printed, by username."""
    out = io.StringIO()
    call_command("ensure_demo_users", *args, stdout=out)
    return dict(re.findall(r"^\s*(\w+)\s+password:\s*(\S+)\s*$", out.getvalue(), flags=re.MULTILINE))


def test_creates_alice_bob_and_admin(settings):
    """The command creates the three demo accounts, active."""
    settings.DEBUG = True

    ensure_demo_users()

    users = get_user_model().objects.filter(username__in=DEMO_USERNAMES)
    assert {user.username for user in users} == DEMO_USERNAMES
    assert all(user.is_active for user in users)


def test_only_admin_is_staff_and_superuser(settings):
    """admin can use the Django admin; alice and bob cannot."""
    settings.DEBUG = True

    ensure_demo_users()

    User = get_user_model()
    admin = User.objects.get(username="admin")
    assert admin.is_staff
    assert admin.is_superuser
    for username in ("alice", "bob"):
        user = User.objects.get(username=username)
        assert not user.is_staff
        assert not user.is_superuser


def test_demo_users_have_display_names(settings):
    """Demo users show friendly names in rooms."""
    settings.DEBUG = True

    ensure_demo_users()

    names = {user.username: user.get_display_name() for user in get_user_model().objects.all()}
    assert names["alice"] == "Alice"
    assert names["bob"] == "Bob"


def test_printed_passwords_sign_in(settings):
    """Each printed password authenticates its account."""
    settings.DEBUG = True

    passwords = ensure_demo_users()

    assert set(passwords) == DEMO_USERNAMES
    for username, password in passwords.items():
        user = authenticate(sign_in_request(), username=username, password=password)
        assert user is not None
        assert user.username == username


def test_a_restart_keeps_the_passwords_and_signs_no_one_out(settings, client, passwords_file):
    """The second start prints the same passwords, and a browser signed in before stays signed in."""
    settings.DEBUG = True
    first = ensure_demo_users()
    client.force_login(get_user_model().objects.get(username="alice"))

    second = ensure_demo_users()

    assert second == first
    assert client.get("/rooms/").status_code == 200
    assert oct(passwords_file.stat().st_mode & 0o777) == "0o600"


def test_new_passwords_on_request_and_the_old_ones_stop_working(settings):
    """--new-passwords makes new ones; the old ones no longer sign in."""
    settings.DEBUG = True

    first = ensure_demo_users()
    second = ensure_demo_users("--new-passwords")

    assert get_user_model().objects.filter(username__in=DEMO_USERNAMES).count() == 3
    for username in DEMO_USERNAMES:
        assert second[username] != first[username]
        assert authenticate(sign_in_request(), username=username, password=first[username]) is None
        assert authenticate(sign_in_request(), username=username, password=second[username]) is not None


def test_passwords_differ_between_accounts(settings):
    """Knowing one demo password tells nothing about another."""
    settings.DEBUG = True

    passwords = ensure_demo_users()

    assert len(set(passwords.values())) == 3


def test_refuses_to_run_without_debug(settings):
    """With DEBUG off the command fails and creates nobody."""
    settings.DEBUG = False

    with pytest.raises(CommandError):
        ensure_demo_users()

    assert not get_user_model().objects.filter(username__in=DEMO_USERNAMES).exists()


def test_refuses_to_reset_an_existing_admin_without_debug(settings):
    """In production an existing admin account keeps its password."""
    settings.DEBUG = False
    get_user_model().objects.create_user(username="admin", password="production password 1")

    with pytest.raises(CommandError):
        ensure_demo_users()

    assert authenticate(sign_in_request(), username="admin", password="production password 1") is not None
