"""No look-alike people: a name like someone else's is refused in the admin and gets a handle at sign-in."""

from __future__ import annotations

import pytest

from accounts.models import User
from accounts.names import name_key, name_with_handle
from tests.accounts.test_oidc import sign_in
from tests.factories import user_create

pytestmark = pytest.mark.django_db

LOOK_ALIKES = [
    "ALICE",
    "alice",
    "Al\u200bice",  # zero-width space
    "Ali\u2060ce",  # word joiner
    "\u202eAlice",  # right-to-left override
    "Alice\u200f",  # right-to-left mark
    "\uff21\uff4c\uff49\uff43\uff45",  # full-width
    "A l i c e",
    "\ufeffAlice",  # BOM
]


@pytest.mark.parametrize("variant", LOOK_ALIKES)
def test_look_alike_names_have_the_same_key(variant):
    assert name_key(variant) == name_key("Alice")


@pytest.mark.parametrize("other", ["Alicia", "Alice B", "Bob", "Alíce"])
def test_names_people_can_tell_apart_have_other_keys(other):
    assert name_key(other) != name_key("Alice")


def test_a_ligature_folds_like_the_letters_it_stands_for():
    """NFKC: "ﬁ" is "fi"."""
    assert name_key("\ufb01ona") == name_key("Fiona")


def change_form(user: User, **changes: str) -> dict[str, str]:
    """The admin's change form for `user` as it stands, with `changes`."""
    form = {
        "username": user.username,
        "display_name": user.display_name,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "is_active": "on",
        "date_joined_0": user.date_joined.date().isoformat(),
        "date_joined_1": user.date_joined.time().isoformat(timespec="seconds"),
    }
    return {**form, **changes}


@pytest.mark.parametrize("variant", LOOK_ALIKES)
def test_the_admin_refuses_a_display_name_that_looks_like_someone_elses(admin_client, variant):
    user_create(username="alice", display_name="Alice")
    bob = user_create(username="bob", display_name="Bob")

    response = admin_client.post(
        f"/admin/accounts/user/{bob.pk}/change/", change_form(bob, display_name=variant)
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "looks like the name of Alice (alice)" in errors["display_name"][0]
    bob.refresh_from_db()
    assert bob.display_name == "Bob"


def test_the_admin_refuses_a_blank_display_name_that_falls_back_to_a_look_alike(admin_client):
    """With no display name, people see the full name: it must not look like someone else's either."""
    user_create(username="alice", display_name="Alice")
    bob = user_create(username="bob", display_name="Bob")

    form = change_form(bob, display_name="", first_name="ALICE")
    response = admin_client.post(f"/admin/accounts/user/{bob.pk}/change/", form)

    assert response.status_code == 200
    assert "display_name" in response.context["adminform"].form.errors


def test_the_admin_keeps_a_persons_own_name_and_other_distinct_names(admin_client):
    alice = user_create(username="alice", display_name="Alice")
    user_create(username="bob", display_name="Bob")

    kept = admin_client.post(
        f"/admin/accounts/user/{alice.pk}/change/", change_form(alice, display_name="ALICE")
    )
    renamed = admin_client.post(
        f"/admin/accounts/user/{alice.pk}/change/", change_form(alice, display_name="Alice Liddell")
    )

    assert kept.status_code == 302
    assert renamed.status_code == 302
    alice.refresh_from_db()
    assert alice.get_display_name() == "Alice Liddell"


def test_the_admin_refuses_a_new_account_whose_username_looks_like_someones_name(admin_client):
    user_create(username="someone", display_name="Alice")

    response = admin_client.post(
        "/admin/accounts/user/add/",
        {"username": "alice", "password1": "", "password2": "", "usable_password": "false"},
    )

    assert response.status_code == 200
    assert (
        "looks like the name of Alice (someone)" in response.context["adminform"].form.errors["username"][0]
    )
    assert not User.objects.filter(username="alice").exists()


@pytest.mark.parametrize("claimed", ["Alice", "Al\u200bice", "ALICE"])
def test_a_provider_user_named_like_a_local_one_is_shown_with_a_handle(client, provider, claimed):
    """The provider's "Alice" beside the local alice is shown as "Alice (alice.w)", in rooms too."""
    user_create(username="alice", display_name="Alice")
    provider.add_user("alice.w", sub="alice-w-sub", name=claimed, email="w@example.test")

    sign_in(client, provider, username="alice.w")

    user = User.objects.get(oidc_identities__subject="alice-w-sub")
    assert user.get_display_name() == f"{claimed} (alice.w)"
    assert f"{claimed} (alice.w)" in client.get("/rooms/general/").content.decode()


def test_a_provider_user_keeps_a_name_no_one_else_holds(client, provider):
    user_create(username="bob", display_name="Bob")
    provider.add_user("alice.w", sub="alice-w-sub", name="Alice", email="w@example.test")

    sign_in(client, provider, username="alice.w")

    assert User.objects.get(oidc_identities__subject="alice-w-sub").get_display_name() == "Alice"


def test_the_admin_can_still_deactivate_someone_whose_name_already_clashes(admin_client):
    """Names from before the check may clash; saving such a person without renaming them goes through."""
    user_create(username="alice", display_name="Alice")
    impostor = user_create(username="impostor", display_name="Bob")
    User.objects.filter(pk=impostor.pk).update(display_name="ALICE")  # as stored before the check existed
    impostor.refresh_from_db()

    form = change_form(impostor)
    del form["is_active"]  # unticked
    response = admin_client.post(f"/admin/accounts/user/{impostor.pk}/change/", form)

    assert response.status_code == 302
    impostor.refresh_from_db()
    assert not impostor.is_active


def test_a_long_handle_is_cut_so_the_name_still_shows():
    shown = name_with_handle("Alice", "x" * 300)

    assert shown.startswith("Alice (")
    assert len(shown) <= 150
