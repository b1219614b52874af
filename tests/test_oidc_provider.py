"""The test OpenID provider behaves like a real one (and misbehaves on request)."""

from __future__ import annotations

import base64
import json
import secrets
import urllib.parse

import jwt
import pytest
import requests

from tests.oidc_provider import OpenIDProvider, pkce_challenge

TIMEOUT = 5
REDIRECT_URI = "http://127.0.0.1:9/oidc/callback/"


@pytest.fixture(scope="module")
def running_provider():
    with OpenIDProvider() as provider:
        yield provider


@pytest.fixture
def provider(running_provider):
    running_provider.reset()
    yield running_provider
    assert running_provider.errors == []


def authorize_params(provider, **extra):
    verifier = secrets.token_urlsafe(48)
    params = {
        "response_type": "code",
        "client_id": provider.client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": "openid email profile",
        "state": secrets.token_urlsafe(16),
        "nonce": secrets.token_urlsafe(16),
        "code_challenge": pkce_challenge(verifier),
        "code_challenge_method": "S256",
        **extra,
    }
    return params, verifier


def sign_in(provider, session, username="alice", **extra):
    """Walk the sign-in form; return (code, authorize params, code_verifier)."""
    params, verifier = authorize_params(provider, **extra)
    page = session.get(provider.url("/authorize"), params=params, timeout=TIMEOUT)
    assert page.status_code == 200
    assert "Test provider sign-in" in page.text
    assert 'id="op-username"' in page.text
    answer = session.post(
        provider.url("/authorize"),
        data={**params, "username": username},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    assert answer.status_code == 302
    return code_from(answer, params["state"]), params, verifier


def code_from(response, state):
    location = urllib.parse.urlsplit(response.headers["Location"])
    assert location._replace(query="").geturl() == REDIRECT_URI
    query = dict(urllib.parse.parse_qsl(location.query))
    assert query["state"] == state
    return query["code"]


def redeem(provider, code, verifier, auth="post", secret=None):
    secret = provider.client_secret if secret is None else secret
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}
    if verifier is not None:
        form["code_verifier"] = verifier
    headers = {}
    if auth == "post":
        form.update(client_id=provider.client_id, client_secret=secret)
    else:
        pair = f"{urllib.parse.quote_plus(provider.client_id)}:{urllib.parse.quote_plus(secret)}"
        headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
    return requests.post(provider.url("/token"), data=form, headers=headers, timeout=TIMEOUT)


def test_discovery_shape(provider):
    document = requests.get(provider.discovery_url, timeout=TIMEOUT).json()
    issuer = provider.issuer
    assert document["issuer"] == issuer
    assert not issuer.endswith("/")
    assert document["authorization_endpoint"] == f"{issuer}/authorize"
    assert document["token_endpoint"] == f"{issuer}/token"
    assert document["userinfo_endpoint"] == f"{issuer}/userinfo"
    assert document["jwks_uri"] == f"{issuer}/jwks"
    assert document["end_session_endpoint"] == f"{issuer}/logout"
    assert document["id_token_signing_alg_values_supported"] == ["RS256"]
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert document["token_endpoint_auth_methods_supported"] == ["client_secret_basic", "client_secret_post"]

    provider.discovery_overrides = {"end_session_endpoint": None, "issuer": "http://elsewhere"}
    document = requests.get(provider.discovery_url, timeout=TIMEOUT).json()
    assert "end_session_endpoint" not in document
    assert document["issuer"] == "http://elsewhere"

    provider.fail_discovery = True
    assert requests.get(provider.discovery_url, timeout=TIMEOUT).status_code == 500


def test_code_flow_with_pkce_yields_a_verifiable_id_token(provider):
    with requests.Session() as browser:
        code, params, verifier = sign_in(provider, browser)
    response = redeem(provider, code, verifier)
    assert response.status_code == 200, response.text
    tokens = response.json()
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 300

    header = jwt.get_unverified_header(tokens["id_token"])
    assert header["alg"] == "RS256"
    assert header["kid"] == provider.kid
    jwks = requests.get(provider.url("/jwks"), timeout=TIMEOUT).json()
    key = jwt.PyJWK(jwks["keys"][0])
    claims = jwt.decode(
        tokens["id_token"], key, algorithms=["RS256"], audience=provider.client_id, issuer=provider.issuer
    )
    assert claims["nonce"] == params["nonce"]
    assert claims["sub"] == "alice-sub-1"
    assert claims["email"] == "alice@example.test"

    userinfo = requests.get(
        provider.url("/userinfo"),
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
        timeout=TIMEOUT,
    )
    assert userinfo.json()["preferred_username"] == "alice"
    assert provider.authorize_requests[0]["code_challenge_method"] == "S256"
    assert provider.token_requests[0]["auth_method"] == "client_secret_post"


def test_code_replay_is_invalid_grant(provider):
    with requests.Session() as browser:
        code, _, verifier = sign_in(provider, browser)
    assert redeem(provider, code, verifier).status_code == 200
    replay = redeem(provider, code, verifier)
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"


def test_wrong_code_verifier_is_invalid_grant(provider):
    with requests.Session() as browser:
        code, _, _ = sign_in(provider, browser)
    response = redeem(provider, code, secrets.token_urlsafe(48))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_basic_auth_takes_the_form_urlencoded_secret(provider):
    assert set("%+/: ") <= set(provider.client_secret)
    with requests.Session() as browser:
        code, _, verifier = sign_in(provider, browser)
    with requests.Session() as browser:
        raw_code, _, _ = sign_in(provider, browser, username="bob")

    # requests' HTTPBasicAuth does not form-urlencode: that must not pass.
    raw = requests.post(
        provider.url("/token"),
        data={"grant_type": "authorization_code", "code": raw_code, "redirect_uri": REDIRECT_URI},
        auth=(provider.client_id, provider.client_secret),
        timeout=TIMEOUT,
    )
    assert raw.status_code == 401
    assert raw.json() == {"error": "invalid_client"}

    response = redeem(provider, code, verifier, auth="basic")
    assert response.status_code == 200, response.text
    assert [r["auth_method"] for r in provider.token_requests] == ["client_secret_basic"] * 2


def test_session_cookie_skips_the_form(provider):
    with requests.Session() as browser:
        sign_in(provider, browser)
        params, _ = authorize_params(provider)
        again = browser.get(provider.url("/authorize"), params=params, allow_redirects=False, timeout=TIMEOUT)
        assert again.status_code == 302
        assert code_from(again, params["state"])

    params, _ = authorize_params(provider, prompt="none")
    silent = requests.get(provider.url("/authorize"), params=params, allow_redirects=False, timeout=TIMEOUT)
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(silent.headers["Location"]).query))
    assert query == {"error": "login_required", "state": params["state"]}


def test_logout_redirects_and_records_the_hint(provider):
    with requests.Session() as browser:
        sign_in(provider, browser)
        response = browser.get(
            provider.url("/logout"),
            params={
                "id_token_hint": "the-hint",
                "post_logout_redirect_uri": "http://127.0.0.1:9/bye",
                "state": "s1",
            },
            allow_redirects=False,
            timeout=TIMEOUT,
        )
        assert response.status_code == 302
        assert response.headers["Location"] == "http://127.0.0.1:9/bye?state=s1"
        assert "Max-Age=0" in response.headers["Set-Cookie"]
        assert provider.logout_requests[0]["id_token_hint"] == "the-hint"
        # Signed out at the provider: the form is back.
        params, _ = authorize_params(provider)
        page = browser.get(provider.url("/authorize"), params=params, allow_redirects=False, timeout=TIMEOUT)
        assert page.status_code == 200


def test_alg_none_signing(provider):
    provider.id_token_signing = "none"
    with requests.Session() as browser:
        code, params, verifier = sign_in(provider, browser)
    id_token = redeem(provider, code, verifier).json()["id_token"]
    header, _, signature = id_token.split(".")
    assert json.loads(base64.urlsafe_b64decode(header + "==")) == {"alg": "none", "typ": "JWT"}
    assert signature == ""
    assert jwt.decode(id_token, options={"verify_signature": False})["nonce"] == params["nonce"]
