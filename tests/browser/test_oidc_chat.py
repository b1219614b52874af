"""Two people sign in through a real OpenID provider in a real Chromium, chat, and sign out of both."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import ChatServer, chat_server_through
from tests.oidc_provider import OpenIDProvider

pytestmark = pytest.mark.browser

PROVIDER_NAME = "Test Provider"


@pytest.fixture(scope="module")
def provider() -> Iterator[OpenIDProvider]:
    """A real OpenID provider on 127.0.0.1, with its own RSA key for this run."""
    with OpenIDProvider() as op:
        yield op


@pytest.fixture(scope="module")
def oidc_server(tmp_path_factory, provider: OpenIDProvider) -> Iterator[ChatServer]:
    """daphne configured with only the three OIDC variables (plus debug and a database)."""
    with chat_server_through(provider, tmp_path_factory.mktemp("oidc_server"), name=PROVIDER_NAME) as server:
        yield server


def sign_in_with_provider(page: Page, username: str, server: ChatServer) -> None:
    """Click "Sign in with Test Provider", sign in on the provider's page, land on the rooms."""
    page.goto("/accounts/login/")
    page.get_by_role("link", name=f"Sign in with {PROVIDER_NAME}").click()
    page.locator("#op-username").fill(username)
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(f"{server.url}/rooms/")


def test_two_people_sign_in_through_the_provider_chat_and_sign_out(
    browser: Browser, oidc_server: ChatServer, provider: OpenIDProvider
):
    """Alice and Bob sign in at the provider, see each other and talk; signing out ends both sessions."""
    contexts = [browser.new_context(base_url=oidc_server.url) for _ in range(2)]
    try:
        alice, bob = (context.new_page() for context in contexts)
        sign_in_with_provider(alice, "alice", oidc_server)
        sign_in_with_provider(bob, "bob", oidc_server)
        for page in (alice, bob):
            page.locator("a.room-card", has_text="General").click()
            expect(page.locator("#connection-state")).to_have_attribute("data-state", "connected")
        # Names come from the provider's claims.
        expect(alice.locator("#people li[data-user-id]", has_text="Bob Builder")).to_have_count(1)
        expect(bob.locator("#people li[data-user-id]", has_text="Alice Liddell")).to_have_count(1)

        alice.locator("#message-input").fill("Hello from the provider")
        alice.locator("#message-input").press("Enter")
        expect(bob.locator("#messages .message-text", has_text="Hello from the provider")).to_have_count(1)

        # Bob signs out: his socket closes, the site session ends, and so does the provider's.
        bob.get_by_role("button", name="Sign out").click()
        expect(bob).to_have_url(f"{oidc_server.url}/")
        expect(alice.locator("#people li[data-user-id]", has_text="Bob Builder")).to_have_count(0)
        assert provider.logout_requests[-1]["id_token_hint"]
        bob.goto("/rooms/")
        expect(bob).to_have_url(re.compile(r"/accounts/login/\?next=/rooms/$"))
        # No single sign-on any more: the provider asks who you are again.
        bob.get_by_role("link", name=f"Sign in with {PROVIDER_NAME}").click()
        expect(bob.locator("#op-username")).to_be_visible()
    finally:
        for context in contexts:
            context.close()
