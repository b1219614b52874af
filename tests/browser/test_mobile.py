"""On a phone (390 by 844, touch): the conversation fills the screen, who is online folds away."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import ChatServer, sign_in_at
from tests.browser.test_accessibility import assert_accessible
from tests.browser.test_delivery import shell

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


def signed_in_phone(browser: Browser, server: ChatServer, username: str):
    return sign_in_at(browser, server, username, **PHONE)


def assert_header_is_one_row(page: Page) -> None:
    """The name of the site and every control of the header side by side, the theme still named in full."""
    expect(page.get_by_role("button", name="Theme: system")).to_be_visible()
    boxes = [
        page.locator(selector).bounding_box()
        for selector in (".brand", "#theme-toggle", ".site-nav a", ".logout-form button")
    ]
    middles = [box["y"] + box["height"] / 2 for box in boxes if box is not None]
    assert len(middles) == 4
    assert max(middles) - min(middles) < 8, middles


def test_on_a_phone_the_conversation_fills_the_screen(browser: Browser, chat_server: ChatServer):
    """People fold behind their summary (a tap opens them); the log takes most of the screen, the composer
    sits inside it, nothing scrolls sideways, and axe (touch target sizes included) finds nothing."""
    shell(
        chat_server,
        "from accounts.models import User\nfrom rooms.models import Room\n"
        "from rooms.services import message_create\n"
        "bob = User.objects.get(username='bob')\nroom = Room.objects.get(slug='sports')\n"
        "for n in range(40):\n    message_create(room=room, author=bob, text=f'score update {n}')\n",
    )
    context, page = signed_in_phone(browser, chat_server, "alice")
    try:
        assert_accessible(page)
        assert_header_is_one_row(page)
        page.goto("/rooms/sports/")
        expect(page.locator("#connection-state")).to_have_attribute("data-state", "connected")
        assert_header_is_one_row(page)

        panel = page.locator(".people-panel")
        expect(panel).not_to_have_attribute("open", "")
        log = page.locator("#messages").bounding_box()
        composer = page.locator("#composer").bounding_box()
        assert log is not None
        assert composer is not None
        assert log["height"] >= 0.45 * 844
        assert composer["y"] + composer["height"] <= 844
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
        expect(page.locator("#messages li.message").last).to_be_in_viewport()
        assert_accessible(page)

        page.locator(".people-panel summary").tap()
        expect(panel).to_have_attribute("open", "")
        expect(page.locator("#people li", has_text="Alice")).to_be_visible()
    finally:
        context.close()
