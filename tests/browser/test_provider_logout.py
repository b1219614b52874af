"""A room page and the provider's view of its session: back-channel logout and re-checks, end to end.

panva's oidc-provider (tests/certified_provider.py) and daphne, both real
servers, the site re-checking sessions every RECHECK_SECONDS. Signing out at
the provider in another tab posts a logout token to the site's back-channel
endpoint and the room page says "Signed out"; a page left open renews its
socket with fresh tickets, then goes through the provider's re-check by itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import ChatServer, chat_server_through
from tests.certified_provider import CertifiedProvider
from tests.servers import free_port

pytestmark = pytest.mark.browser

PROVIDER_NAME = "Certified Provider"
# Short, so that a page meets its re-check within the test; the socket deadline is 15 s later.
RECHECK_SECONDS = 20


@pytest.fixture(scope="module")
def site_and_provider(tmp_path_factory) -> Iterator[tuple[ChatServer, CertifiedProvider]]:
    """daphne on a port chosen first; the provider registered with its callback and logout URIs."""
    workdir = tmp_path_factory.mktemp("provider_logout")
    port = free_port()
    site = f"http://127.0.0.1:{port}"
    provider = CertifiedProvider(
        redirect_uris=[f"{site}/oidc/callback/"],
        post_logout_redirect_uris=[f"{site}/"],
        backchannel_logout_uri=f"{site}/oidc/backchannel-logout/",
    )
    with (
        provider,
        chat_server_through(
            provider,
            workdir,
            name=PROVIDER_NAME,
            port=port,
            OIDC_RENEW_ID_TOKEN_EXPIRY_SECONDS=str(RECHECK_SECONDS),
        ) as server,
    ):
        yield server, provider


def open_general_signed_in(page: Page, site: ChatServer, login: str) -> None:
    """Sign in at the provider's page and open General, connected."""
    page.goto("/accounts/login/")
    page.get_by_role("link", name=f"Sign in with {PROVIDER_NAME}").click()
    page.get_by_label("Login").fill(login)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{site.url}/rooms/")
    page.locator("a.room-card", has_text="General").click()
    expect(page.locator("#connection-state")).to_have_attribute("data-state", "connected")


def test_signing_out_at_the_provider_closes_the_open_room_page(browser: Browser, site_and_provider):
    """Alice's room page goes to "Signed out" when she signs out at the provider in another tab."""
    site, provider = site_and_provider
    context = browser.new_context(base_url=site.url)
    try:
        page = context.new_page()
        open_general_signed_in(page, site, "alice")

        provider_tab = context.new_page()
        provider_tab.goto(provider.url("/session/end"))
        provider_tab.get_by_role("button", name="Yes, sign me out").click()
        expect(provider_tab).not_to_have_url(re.compile(r"/session/end$"))

        expect(page.locator("#connection-state")).to_have_attribute("data-state", "signedout")
        expect(page.locator("#connection-state")).to_contain_text("Signed out")
        expect(page.locator("#message-input")).to_be_disabled()
        assert "back-channel logout from" in site.log()
        assert provider.errors == []
    finally:
        context.close()


def test_a_page_left_open_renews_its_socket_then_goes_through_the_recheck_by_itself(
    browser: Browser, site_and_provider
):
    """Bob types nothing for half a minute: the page sends a fresh ticket over its socket, and once the
    re-check is due it reloads through the provider, back in General, connected, his draft still there."""
    site, _provider = site_and_provider
    context = browser.new_context(base_url=site.url)
    try:
        page = context.new_page()
        sent: list[str] = []
        page.on("websocket", lambda socket: socket.on("framesent", lambda payload: sent.append(str(payload))))
        open_general_signed_in(page, site, "bob")
        page.locator("#message-input").fill("a draft Bob is still thinking about")

        with page.expect_event("load", timeout=(RECHECK_SECONDS + 20) * 1000):
            pass  # the renewal, then the reload through the provider's re-check

        expect(page).to_have_url(f"{site.url}/rooms/general/")
        expect(page.locator("#connection-state")).to_have_attribute("data-state", "connected")
        expect(page.locator("#message-input")).to_have_value("a draft Bob is still thinking about")
        assert any('"type":"refresh"' in frame.replace(" ", "") for frame in sent), sent
    finally:
        context.close()
