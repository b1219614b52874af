"""Sign-in through a certified OpenID provider: panva's oidc-provider, run by tests/certified_provider.py."""

from __future__ import annotations

import time

import jwt
import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from accounts.models import OidcIdentity, ProviderGroup
from rooms.models import RoomGroupGrant, RoomKind
from tests.accounts.test_oidc import let_the_id_token_expire
from tests.factories import room_create

pytestmark = pytest.mark.django_db

User = get_user_model()


def groups_of(user) -> set[str]:
    return set(ProviderGroup.objects.filter(user=user).values_list("name", flat=True))


def signed_in_user(client):
    return User.objects.get(pk=client.session["_auth_user_id"])


def id_token_claims(client) -> dict:
    """The claims of the ID token the site kept (already verified by the site at sign-in)."""
    return jwt.decode(client.session["oidc_id_token"], options={"verify_signature": False})


def test_signing_in_creates_the_user_from_the_claims(client, certified_provider):
    """A first sign-in creates the user, named by `name`, linked by (issuer, sub); it lands on the rooms."""
    response = certified_provider.sign_in(client, "alice")
    assert response.status_code == 302
    assert response["Location"] == "/rooms/"
    identity = OidcIdentity.objects.get(issuer=certified_provider.issuer, subject="alice-sub-1")
    assert identity.user.get_display_name() == "Alice Liddell"
    assert identity.user.email == "alice@example.test"
    assert not identity.user.has_usable_password()
    assert client.session["_auth_user_id"] == str(identity.user.pk)
    assert client.get("/rooms/general/token/").status_code == 200


def test_the_id_token_carries_the_groups_and_the_provider_session(client, certified_provider):
    """With scopes "openid email profile", the provider's ID token names the groups and its session (sid)."""
    certified_provider.set_account("alice", groups=["finance"])
    certified_provider.sign_in(client, "alice")
    claims = id_token_claims(client)
    assert claims["iss"] == certified_provider.issuer
    assert claims["aud"] == certified_provider.client_id
    assert claims["groups"] == ["finance"]
    assert claims["sid"]


def test_the_groups_claim_is_stored_and_replaced_at_every_sign_in(client, certified_provider):
    """The groups listed at sign-in are the person's; at the next sign-in a group they left is gone."""
    certified_provider.set_account("alice", groups=["finance", "staff"])
    certified_provider.sign_in(client, "alice")
    alice = signed_in_user(client)
    assert groups_of(alice) == {"finance", "staff"}

    client.post("/accounts/logout/")
    certified_provider.set_account("alice", groups=["staff", "support"])
    certified_provider.sign_in(client, "alice")
    assert signed_in_user(client) == alice
    assert groups_of(alice) == {"staff", "support"}


def test_a_room_granted_to_a_group_opens_only_while_the_provider_lists_the_person_in_it(
    client, certified_provider
):
    """A private room granted to "finance" opens for a member, and is a 404 after a sign-in without it."""
    room = room_create(slug="finance", name="Finance", kind=RoomKind.PRIVATE)
    RoomGroupGrant.objects.create(room=room, group="finance")
    certified_provider.set_account("alice", groups=["finance"])
    certified_provider.sign_in(client, "alice")
    assert client.get("/rooms/finance/").status_code == 200

    client.post("/accounts/logout/")
    certified_provider.set_account("alice", groups=[])
    certified_provider.sign_in(client, "alice")
    assert client.get("/rooms/finance/").status_code == 404


def test_the_recheck_with_a_live_provider_session_keeps_the_person_signed_in_and_refreshes_groups(
    client, certified_provider
):
    """prompt=none with the provider session alive signs the same person in again, with their new groups."""
    certified_provider.set_account("alice", groups=["finance"])
    certified_provider.sign_in(client, "alice")
    alice = signed_in_user(client)
    certified_provider.set_account("alice", groups=["staff"])
    let_the_id_token_expire(client)

    response = certified_provider.recheck(client, "/rooms/")

    assert response.status_code == 302
    assert response["Location"] == "/rooms/"
    assert signed_in_user(client) == alice
    assert client.session["oidc_id_token_expiration"] > time.time()
    assert groups_of(alice) == {"staff"}
    assert client.get("/rooms/general/token/", HTTP_ACCEPT="application/json").status_code == 200


def test_the_recheck_after_the_provider_session_ended_signs_the_person_out(client, certified_provider):
    """Once the provider session ended, prompt=none answers login_required: the site signs the person out."""
    certified_provider.sign_in(client, "alice")
    certified_provider.end_session("alice")
    let_the_id_token_expire(client)

    response = certified_provider.recheck(client, "/rooms/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert "_auth_user_id" not in client.session
    assert client.get("/rooms/general/token/", HTTP_ACCEPT="application/json").status_code == 401


def test_ending_the_provider_session_sends_a_logout_token_for_it(client, certified_provider):
    """The provider's end of session POSTs a back-channel logout token naming the person and their sid."""
    certified_provider.sign_in(client, "alice")
    sid = id_token_claims(client)["sid"]

    certified_provider.end_session("alice")

    (token,) = certified_provider.logout_tokens
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["sub"] == "alice-sub-1"
    assert claims["sid"] == sid
    assert "http://schemas.openid.net/event/backchannel-logout" in claims["events"]


def test_the_providers_logout_token_ends_that_session_and_no_other(client, certified_provider):
    """The provider's back-channel logout for Alice's session signs her out of it; Bob stays signed in."""
    certified_provider.sign_in(client, "alice")
    bob = Client()
    certified_provider.sign_in(bob, "bob")

    certified_provider.end_session("alice")
    (token,) = certified_provider.logout_tokens
    (answer,) = certified_provider.deliver_logout_tokens()

    assert answer.status_code == 200
    assert client.get("/rooms/general/token/", HTTP_ACCEPT="application/json").status_code == 401
    assert bob.get("/rooms/general/token/", HTTP_ACCEPT="application/json").status_code == 200
    # The same token again is a replay: refused.
    assert Client().post("/oidc/backchannel-logout/", {"logout_token": token}).status_code == 400
