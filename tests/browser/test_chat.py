"""Two people chatting in General through a real Chromium against a real daphne."""

from __future__ import annotations

import json
import re
import uuid

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import Person

pytestmark = pytest.mark.browser

GENERAL = "/rooms/general/"
MARKUP = '<img src=x onerror="window.__pwned=1"> <script>window.__pwned=2</script> {{7*7}}'
SCREENSHOT = "/tmp/room.png"  # noqa: S108 - for the humans, not asserted


def enter_general(page: Page) -> None:
    """From the dashboard, open General by its card and wait for the live connection."""
    page.locator("a.room-card", has_text="General").click()
    expect(page).to_have_url(re.compile(rf"{re.escape(GENERAL)}$"))
    expect_connected(page)


def expect_connected(page: Page) -> None:
    expect(page.locator("#connection-state")).to_have_attribute("data-state", "connected")


def person_item(page: Page, name: str) -> Locator:
    return page.locator("#people li[data-user-id]", has_text=name)


def message_texts(page: Page, text: str) -> Locator:
    return page.locator("#messages li.message .message-text", has_text=text)


def say(page: Page, text: str) -> None:
    """Type a message and send it with Enter, as people do."""
    page.locator("#message-input").fill(text)
    page.locator("#message-input").press("Enter")


def expect_literal_markup(person: Person) -> None:
    """The markup message shows as exactly the typed text, and nothing in it ran."""
    page = person.page
    shown = message_texts(page, "window.__pwned=2")
    expect(shown).to_have_count(1)
    assert shown.evaluate("el => el.textContent") == MARKUP
    expect(page.locator("#messages img")).to_have_count(0)
    expect(page.locator("#messages script")).to_have_count(0)
    assert page.evaluate("() => typeof window.__pwned") == "undefined"
    assert person.dialogs == []


def test_two_people_chat_live(sign_in):
    """Alice and Bob see each other, talk live, see Bob leave, and Bob finds the talk in history."""
    alice, bob = sign_in("alice"), sign_in("bob")
    enter_general(alice.page)
    enter_general(bob.page)
    expect(person_item(alice.page, "Bob")).to_have_count(1)
    expect(person_item(bob.page, "Alice")).to_have_count(1)

    # Plain words (nothing HTML-escapes them), unique so nothing earlier can match.
    hello = f"Hi Bob, Alice here {uuid.uuid4().hex[:8]}"
    say(alice.page, hello)
    expect(message_texts(bob.page, hello)).to_have_text(hello)
    expect(message_texts(alice.page, hello)).to_have_text(hello)
    expect(alice.page.locator("#message-input")).to_have_value("")

    answer = f"Hello Alice! {uuid.uuid4().hex[:8]}"
    say(bob.page, answer)
    expect(message_texts(alice.page, answer)).to_have_text(answer)
    alice.page.screenshot(path=SCREENSHOT, full_page=True)

    bob.page.close()
    expect(person_item(alice.page, "Bob")).to_have_count(0)

    page = bob.reopen()
    response = page.goto(GENERAL)
    assert response is not None
    assert response.status == 200
    rendered = response.text()
    assert hello in rendered, "the reopened page's HTML lacks the earlier message"
    assert answer in rendered, "the reopened page's HTML lacks the earlier message"
    expect(message_texts(page, hello)).to_have_count(1)
    expect(message_texts(page, answer)).to_have_count(1)
    expect_connected(page)
    expect(person_item(alice.page, "Bob")).to_have_count(1)


def script_escaped(text: str) -> str:
    """`text` as the room page's history JSON holds it (json_script escapes <, > and &)."""
    return json.dumps(text)[1:-1].replace("<", "\\u003C").replace(">", "\\u003E").replace("&", "\\u0026")


def test_markup_in_messages_is_shown_as_text(sign_in):
    """Markup typed into a message is shown literally, live and in history, and never runs."""
    alice, bob = sign_in("alice"), sign_in("bob")
    enter_general(alice.page)
    enter_general(bob.page)

    say(alice.page, MARKUP)
    expect_literal_markup(bob)
    expect_literal_markup(alice)

    for person in (alice, bob):
        response = person.page.reload()
        assert response is not None
        rendered = response.text()
        # The history reaches the page's script as JSON with < and > escaped (json_script).
        assert script_escaped(MARKUP) in rendered
        assert MARKUP not in rendered
        expect_connected(person.page)
        expect_literal_markup(person)


def test_response_carries_csp(sign_in):
    """The room page is served with a CSP that allows only our own scripts."""
    alice = sign_in("alice")
    response = alice.page.goto(GENERAL)
    assert response is not None
    assert response.status == 200
    header = response.headers.get("content-security-policy")
    assert header, "the room page has no Content-Security-Policy header"
    directives = {
        name: values for name, *values in (part.split() for part in header.split(";") if part.strip())
    }
    assert "'self'" in directives.get("default-src", [])
    script_src = directives.get("script-src", directives.get("default-src", []))
    assert "'unsafe-inline'" not in script_src


def sign_out(page: Page) -> None:
    """Press the header's Sign out button and wait for the signed-out page."""
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)


def test_signing_out_elsewhere_leaves_this_browser_connected(sign_in):
    """Alice signing out on her phone ends the phone's session only: the laptop's socket stays open."""
    laptop, phone = sign_in("alice"), sign_in("alice")
    enter_general(laptop.page)
    enter_general(phone.page)
    laptop_sockets = []
    laptop.page.on("websocket", lambda socket: laptop_sockets.append(socket))

    sign_out(phone.page)

    expect_connected(laptop.page)
    said = f"still here {uuid.uuid4().hex[:8]}"
    say(laptop.page, said)
    expect(message_texts(laptop.page, said)).to_have_count(1)
    assert laptop_sockets == []  # never had to reconnect


def test_signing_out_in_another_tab_shows_signed_out(sign_in):
    """When this browser's own session ends, the room page says so and stops reconnecting."""
    alice = sign_in("alice")
    enter_general(alice.page)
    room_page = alice.page

    other_tab = alice.reopen()
    other_tab.goto("/rooms/")
    sign_out(other_tab)

    expect(room_page.locator("#connection-state")).to_have_attribute("data-state", "signedout")
    expect(room_page.locator("#message-input")).to_be_disabled()
