"""Sign-in and sign-out through a real OpenID provider over HTTP."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.contrib.auth import get_user_model

from accounts.models import OidcIdentity
from accounts.oidc_views import PROVIDER_UNAVAILABLE, SIGN_IN_FAILED
from tests.factories import user_create

pytestmark = pytest.mark.django_db

User = get_user_model()


def start_sign_in(client, provider, next_url: str = "/rooms/general/") -> dict[str, str]:
    """Click "Sign in with …": the site sends the browser to the provider; return the query it sent."""
    response = client.get("/oidc/authenticate/", {"next": next_url})
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == provider.url("/authorize")
    return {key: values[0] for key, values in parse_qs(location.query).items()}


def sign_in_at_provider(provider, params: dict[str, str], username: str) -> str:
    """The person signs in on the provider's page; return where it sends the browser back."""
    response = requests.post(
        provider.url("/authorize"), data={**params, "username": username}, allow_redirects=False, timeout=5
    )
    assert response.status_code == 302
    return response.headers["Location"]


def callback_path(callback_url: str) -> str:
    parts = urlsplit(callback_url)
    return f"{parts.path}?{parts.query}"


def sign_in(client, provider, username: str = "alice", next_url: str = "/rooms/general/"):
    """A whole sign-in; returns the site's answer to the callback."""
    params = start_sign_in(client, provider, next_url)
    return client.get(callback_path(sign_in_at_provider(provider, params, username)))


def let_the_id_token_expire(client) -> None:
    """Move the session past OIDC_RENEW_ID_TOKEN_EXPIRY_SECONDS."""
    session = client.session
    session["oidc_id_token_expiration"] = 0
    session.save()


def assert_refused(client, response) -> None:
    """The sign-in was refused politely: back to the sign-in page with a message, nobody signed in."""
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    page = client.get(response["Location"])
    assert SIGN_IN_FAILED.format(provider="Test Provider") in page.content.decode()
    assert "_auth_user_id" not in client.session
    assert not User.objects.filter(oidc_identities__isnull=False).exists()


def test_first_sign_in_creates_the_user_with_the_provider_name(client, provider):
    """A new person signs in: a user is created from the claims and lands where they were going."""
    response = sign_in(client, provider)
    assert response.status_code == 302
    assert response["Location"] == "/rooms/general/"
    user = User.objects.get(oidc_identities__issuer=provider.issuer, oidc_identities__subject="alice-sub-1")
    assert user.get_display_name() == "Alice Liddell"
    assert user.email == "alice@example.test"
    assert not user.has_usable_password()
    assert client.session["_auth_user_id"] == str(user.pk)
    assert client.get("/rooms/general/token/").status_code == 200


def test_sign_in_uses_pkce_state_and_nonce(client, provider):
    """The request carries state, nonce and an S256 PKCE challenge; the code is redeemed with its verifier."""
    params = start_sign_in(client, provider)
    assert params["code_challenge_method"] == "S256"
    assert len(params["code_challenge"]) >= 43
    assert params["state"]
    assert params["nonce"]
    assert params["scope"].split() == ["openid", "email", "profile"]
    client.get(callback_path(sign_in_at_provider(provider, params, "alice")))
    (token_request,) = provider.token_requests
    assert token_request["ok"]
    assert token_request["form"]["code_verifier"]
    # The client secret has characters that must be form-encoded in Basic auth.
    assert token_request["auth_method"] == "client_secret_basic"


def test_client_secret_post_when_configured(client, provider, settings):
    """OIDC_TOKEN_AUTH_METHOD=client_secret_post sends the secret in the form instead."""
    settings.OIDC_TOKEN_USE_BASIC_AUTH = False
    sign_in(client, provider)
    assert provider.token_requests[0]["auth_method"] == "client_secret_post"
    assert client.session["_auth_user_id"]


def test_second_sign_in_updates_the_name_and_email(client, provider):
    """Names and emails follow the provider at every sign-in; the account stays the same."""
    provider.add_user("dodo", sub="dodo-sub-3", name="Dodo", email="dodo@example.test")
    sign_in(client, provider, username="dodo")
    client.post("/accounts/logout/")
    provider.users["dodo"].update(name="The Dodo", email="dodo@new.example")
    sign_in(client, provider, username="dodo")
    (user,) = User.objects.filter(oidc_identities__subject="dodo-sub-3")
    assert user.get_display_name() == "The Dodo"
    assert user.email == "dodo@new.example"


@pytest.mark.parametrize(
    ("claims", "expected"),
    [
        ({"name": None}, "alice"),
        ({"name": None, "preferred_username": None}, "alice@example.test"),
    ],
)
def test_display_name_falls_back_to_preferred_username_then_email(client, provider, claims, expected):
    """Without `name`, people are shown by preferred_username, then by email."""
    provider.userinfo_tweaks = claims
    provider.id_token_tweaks = claims
    sign_in(client, provider)
    assert User.objects.get(oidc_identities__subject="alice-sub-1").get_display_name() == expected


def test_sign_in_never_attaches_to_a_local_account_by_email(client, provider):
    """A local account with the same email stays separate: identity is (issuer, sub)."""
    local = user_create(username="alice", email="alice@example.test")
    sign_in(client, provider)
    identity = OidcIdentity.objects.get(subject="alice-sub-1")
    assert identity.user != local
    assert identity.issuer == provider.issuer
    assert client.session["_auth_user_id"] == str(identity.user.pk)


def test_sign_in_refused_for_unknown_state(client, provider):
    """A callback whose state this browser never sent is refused."""
    params = start_sign_in(client, provider)
    callback = sign_in_at_provider(provider, {**params, "state": "forged-state"}, "alice")
    assert_refused(client, client.get(callback_path(callback)))


def test_sign_in_refused_for_replayed_code(client, provider):
    """An authorization code works once; replaying it in a new sign-in is refused."""
    first = sign_in_at_provider(provider, start_sign_in(client, provider), "alice")
    assert client.get(callback_path(first)).status_code == 302
    client.post("/accounts/logout/")
    OidcIdentity.objects.all().delete()
    User.objects.all().delete()
    used_code = parse_qs(urlsplit(first).query)["code"][0]
    fresh_state = start_sign_in(client, provider)["state"]
    response = client.get("/oidc/callback/", {"code": used_code, "state": fresh_state})
    assert_refused(client, response)


@pytest.mark.parametrize(
    ("signing", "tweaks"),
    [
        pytest.param("rs256", {"nonce": "not-the-session-nonce"}, id="wrong-nonce"),
        pytest.param("other_key", {}, id="signed-by-another-key"),
        pytest.param("hs256_client_secret", {}, id="hs256-with-client-secret"),
        pytest.param("none", {}, id="alg-none"),
        pytest.param("rs256", {"exp": int(time.time()) - 600, "iat": int(time.time()) - 900}, id="expired"),
        pytest.param("rs256", {"aud": "some-other-client"}, id="wrong-aud"),
        pytest.param("rs256", {"aud": ["lets-talk-test", "other"]}, id="list-aud-without-azp"),
        pytest.param("rs256", {"iss": "http://127.0.0.1:1/evil"}, id="wrong-iss"),
        pytest.param("rs256", {"sub": None}, id="no-sub"),
    ],
)
def test_sign_in_refused_for_a_bad_id_token(client, provider, signing, tweaks):
    """Every forged, stale or misdirected ID token ends on the sign-in page, never in a 500."""
    provider.id_token_signing = signing
    provider.id_token_tweaks = tweaks
    assert_refused(client, sign_in(client, provider))


def test_sign_in_refused_when_userinfo_is_about_someone_else(client, provider):
    """Userinfo for another subject than the ID token is a substitution: refused."""
    provider.userinfo_tweaks = {"sub": "bob-sub-2"}
    assert_refused(client, sign_in(client, provider))


def test_sign_in_rotates_the_session_key(client, provider):
    """The session key changes at sign-in (no session fixation)."""
    start_sign_in(client, provider)
    before = client.session.session_key
    client.get(callback_path(sign_in_at_provider(provider, start_sign_in(client, provider), "alice")))
    assert client.session.session_key != before


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/", "javascript:alert(1)"])
def test_off_site_next_falls_back_to_the_dashboard(client, provider, next_url):
    """An off-site `next` is dropped: after sign-in the browser goes to the rooms."""
    response = sign_in(client, provider, next_url=next_url)
    assert response["Location"] == "/rooms/"


def test_sign_out_ends_the_session_and_the_provider_session(client, provider):
    """POST /accounts/logout/ ends the site session and sends the browser to end-session (id_token_hint)."""
    sign_in(client, provider)
    id_token = client.session["oidc_id_token"]
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == provider.url("/logout")
    query = {key: values[0] for key, values in parse_qs(location.query).items()}
    assert query["id_token_hint"] == id_token
    assert query["post_logout_redirect_uri"] == "http://testserver/"
    assert "_auth_user_id" not in client.session
    assert client.get("/rooms/general/token/").status_code == 401


def test_sign_out_without_end_session_endpoint_goes_home(client, provider):
    """A provider without RP-initiated logout: sign out of the site and go to /."""
    provider.discovery_overrides = {"end_session_endpoint": None}
    sign_in(client, provider)
    response = client.post("/accounts/logout/")
    assert response["Location"] == "/"
    assert "_auth_user_id" not in client.session


def test_provider_down_gives_a_clear_message(client, provider, settings):
    """With the provider unreachable, "Sign in" explains itself instead of failing."""
    settings.OIDC_ISSUER = "http://127.0.0.1:9"  # discard port: nothing listens
    response = client.get("/oidc/authenticate/")
    assert response["Location"] == "/accounts/login/"
    page = client.get("/accounts/login/").content.decode()
    assert PROVIDER_UNAVAILABLE.format(provider="Test Provider") in page


def test_slow_provider_is_cut_off_by_the_timeout(client, provider, settings):
    """A token endpoint that hangs ends the sign-in with a message after OIDC_TIMEOUT."""
    settings.OIDC_TIMEOUT = 0.5
    provider.delay_seconds = 5
    response = sign_in(client, provider)
    assert response["Location"] == "/accounts/login/"
    page = client.get("/accounts/login/").content.decode()
    assert PROVIDER_UNAVAILABLE.format(provider="Test Provider") in page
    assert "_auth_user_id" not in client.session


def test_login_page_offers_the_provider(client, provider):
    """The sign-in page shows "Sign in with <provider>"."""
    page = client.get("/accounts/login/").content.decode()
    assert "Sign in with Test Provider" in page


def test_local_form_hidden_and_refused_when_local_login_is_off(client, provider, settings):
    """With a provider and local accounts off, the page has no password form and POSTs are refused."""
    settings.LOCAL_LOGIN_ENABLED = False
    user_create(username="carol")
    page = client.get("/accounts/login/").content.decode()
    assert 'name="password"' not in page
    response = client.post("/accounts/login/", {"username": "carol", "password": "x"})
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session


def test_oidc_endpoints_are_404_without_a_provider(client, settings):
    """With no provider configured, the OIDC endpoints do not exist."""
    settings.OIDC_ENABLED = False
    assert client.get("/oidc/authenticate/").status_code == 404
    assert client.get("/oidc/callback/", {"code": "x", "state": "y"}).status_code == 404


def test_stale_session_is_sent_round_the_provider(client, provider):
    """After OIDC_RENEW_ID_TOKEN_EXPIRY_SECONDS, pages re-check silently with prompt=none."""
    sign_in(client, provider)
    let_the_id_token_expire(client)
    response = client.get("/rooms/")
    assert response.status_code == 302
    query = parse_qs(urlsplit(response["Location"]).query)
    assert query["prompt"] == ["none"]


def test_stale_session_gets_401_json_from_the_token_endpoint(client, provider):
    """The room page's token fetch cannot follow the provider: it gets 401 JSON instead."""
    sign_in(client, provider)
    let_the_id_token_expire(client)
    response = client.get("/rooms/general/token/", headers={"Accept": "application/json"})
    assert response.status_code == 401
    assert response.json()["error"] == "session_expired"


def test_provider_ending_the_session_signs_the_user_out(client, provider):
    """When the silent re-check answers login_required, the user is signed out."""
    sign_in(client, provider)
    let_the_id_token_expire(client)
    refresh = client.get("/rooms/")
    state = parse_qs(urlsplit(refresh["Location"]).query)["state"][0]
    # The provider's own session is gone (no cookie): it answers login_required.
    response = client.get("/oidc/callback/", {"error": "login_required", "state": state})
    assert response["Location"] == "/accounts/login/"
    assert "_auth_user_id" not in client.session


def test_local_users_are_not_sent_to_the_provider(client, provider):
    """SessionRefresh leaves local accounts alone."""
    client.force_login(user_create(), backend="django.contrib.auth.backends.ModelBackend")
    assert client.get("/rooms/").status_code == 200
