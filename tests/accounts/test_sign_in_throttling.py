"""Sign-in throttling (django-axes): wrong passwords lock an account and an address out for a while (429)."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import Client

from tests.factories import PASSWORD, user_create

pytestmark = pytest.mark.django_db

ATTACKER = "203.0.113.7"
ELSEWHERE = "198.51.100.20"


def sign_in(client: Client, username: str, password: str, path: str = "/accounts/login/"):
    return client.post(path, {"username": username, "password": password})


def fail(client: Client, username: str, times: int, path: str = "/accounts/login/") -> None:
    """`times` wrong passwords, each answered with the form and its error."""
    for _ in range(times):
        assert sign_in(client, username, "wrong password", path).status_code == 200


def lock_out(client: Client, username: str, limit: int, path: str = "/accounts/login/") -> None:
    """Wrong passwords up to the limit: the last one is already answered 429."""
    fail(client, username, limit - 1, path)
    assert sign_in(client, username, "wrong password", path).status_code == 429


@pytest.fixture
def alice():
    return user_create(username="alice")


@pytest.fixture
def attacker() -> Client:
    return Client(REMOTE_ADDR=ATTACKER)


def test_wrong_passwords_past_the_limit_lock_the_account_even_for_the_right_one(attacker, alice, settings):
    lock_out(attacker, "alice", settings.AXES_FAILURE_LIMIT)

    response = sign_in(attacker, "alice", PASSWORD)

    assert response.status_code == 429
    page = response.content.decode()
    assert f"after {settings.AXES_FAILURE_LIMIT} wrong passwords" in page
    assert "Try again in 15 minutes" in page
    assert response["Retry-After"] == "900"
    assert "_auth_user_id" not in attacker.session


def test_a_locked_account_stays_locked_from_another_address(attacker, alice, settings):
    """Per account: guessing from many addresses does not get round it."""
    lock_out(attacker, "alice", settings.AXES_FAILURE_LIMIT)

    assert sign_in(Client(REMOTE_ADDR=ELSEWHERE), "alice", PASSWORD).status_code == 429


def test_wrong_passwords_for_many_accounts_lock_the_address(attacker, settings):
    """Per address: spraying one password over many usernames is stopped too."""
    bob = user_create(username="bob")
    for n in range(settings.AXES_FAILURE_LIMIT - 1):
        fail(attacker, f"guess{n}", 1)
    assert sign_in(attacker, "one-more-guess", "wrong password").status_code == 429

    assert sign_in(attacker, bob.username, PASSWORD).status_code == 429
    # Someone else, elsewhere, is not locked out with them.
    assert sign_in(Client(REMOTE_ADDR=ELSEWHERE), bob.username, PASSWORD).status_code == 302


def test_a_success_before_the_limit_starts_the_count_again(alice, settings):
    client = Client(REMOTE_ADDR=ELSEWHERE)
    fail(client, "alice", settings.AXES_FAILURE_LIMIT - 1)
    assert sign_in(client, "alice", PASSWORD).status_code == 302
    client.post("/accounts/logout/")

    fail(client, "alice", settings.AXES_FAILURE_LIMIT - 1)

    assert sign_in(client, "alice", PASSWORD).status_code == 302


def test_the_admin_sign_in_is_throttled_too(attacker, settings):
    user_create(username="root", is_staff=True, is_superuser=True)
    lock_out(attacker, "root", settings.AXES_FAILURE_LIMIT, path="/admin/login/")

    assert sign_in(attacker, "root", PASSWORD, path="/admin/login/").status_code == 429


def test_an_admin_unlocks_an_account_and_its_address(attacker, alice, settings):
    """`manage.py axes_reset_username` and `axes_reset_ip`, as SECURITY.md says."""
    lock_out(attacker, "alice", settings.AXES_FAILURE_LIMIT)

    call_command("axes_reset_username", "alice")
    call_command("axes_reset_ip", ATTACKER)

    assert sign_in(attacker, "alice", PASSWORD).status_code == 302
