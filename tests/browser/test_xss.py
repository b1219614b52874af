"""Hostile messages and display names in a real Chromium: shown as typed, live and in history, never run.

The original tutorial inserted chat text and names as HTML (stored XSS). Here
every payload must come out as exactly the text that went in: no dialog, no
element injected into the message log or the people list, no template
evaluated, and a CSP on the page besides.
"""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import Page, Response, expect

from tests.browser.conftest import ChatServer, Person
from tests.browser.test_chat import enter_general, expect_connected, say, script_escaped

pytestmark = pytest.mark.browser

MAX_LENGTH = 2000  # CHAT_MAX_MESSAGE_LENGTH of the embedded default
PAYLOADS = {
    "img": '<img src=x onerror="window.__pwned=1;alert(1)">',
    "script": "</script><script>window.__pwned=2;alert(2)</script>",
    "javascript-link": '<a href="javascript:alert(3)">javascript:alert(3)</a>',
    "template": "{{7*7}} {% now 'Y' %} ${7*7}",
    "rtl-override": "invoice\u202egnp.exe",
}
INJECTED = (
    "#messages img, #messages script, #messages a, #people img, #people script, #people a, .current-user *"
)
TEXTS_SHOWN = """([selector, texts]) => texts.every(
    (text) => [...document.querySelectorAll(selector)].some((el) => el.textContent === text))"""


def long_payload(prefix: str) -> str:
    """Markup, exactly CHAT_MAX_MESSAGE_LENGTH characters long."""
    return (prefix + "<b>bold</b><i>x</i> " * MAX_LENGTH)[:MAX_LENGTH]


def expect_texts(page: Page, selector: str, texts: list[str]) -> None:
    """Each text is the textContent of some element matching `selector` (waits for live frames)."""
    page.wait_for_function(TEXTS_SHOWN, arg=[selector, texts])


def expect_inert(person: Person) -> None:
    """Nothing ran and nothing was injected on this person's page."""
    page = person.page
    expect(page.locator(INJECTED)).to_have_count(0)
    assert page.evaluate("() => typeof window.__pwned") == "undefined"
    assert person.dialogs == []


def reload_with_csp(page: Page) -> Response:
    """Reload (server-rendered history), check the CSP header, and wait for the live connection."""
    response = page.reload()
    assert response is not None
    assert response.status == 200
    assert "default-src 'self'" in (response.headers.get("content-security-policy") or "")
    expect_connected(page)
    return response


def test_hostile_messages_are_shown_as_typed_live_and_in_history(sign_in):
    """Markup, </script>, javascript: links, {{7*7}}, U+202E and a 2000-character message stay text."""
    alice, bob = sign_in("alice"), sign_in("bob")
    enter_general(alice.page)
    enter_general(bob.page)
    tag = uuid.uuid4().hex[:8]
    messages = [f"[{tag}] {payload}" for payload in PAYLOADS.values()] + [long_payload(f"[{tag}] ")]
    assert len(messages[-1]) == MAX_LENGTH

    for text in messages:
        say(alice.page, text)
    for person in (alice, bob):
        expect_texts(person.page, "#messages .message-text", messages)
        expect_inert(person)
        # expect_texts compared every text exactly: "{{7*7}}" was shown, not 49.
        # (Not a search for "49" on the page: the times beside the messages may read 2:49.)

    for person in (alice, bob):
        rendered = reload_with_csp(person.page).text()
        for text in messages:
            assert script_escaped(text) in rendered, "history is not in the page's JSON, escaped"
        expect_texts(person.page, "#messages .message-text", messages)
        expect_inert(person)


def test_hostile_display_names_are_shown_as_typed_live_and_in_history(sign_in, chat_server: ChatServer):
    """Names of markup, </script>, javascript: links, {{7*7}} or U+202E stay text wherever they show."""
    tag = uuid.uuid4().hex[:8]
    names = {f"xss-{kind}-{tag}": f"{payload} {tag}" for kind, payload in PAYLOADS.items()}
    chat_server.add_users(names)
    alice = sign_in("alice")
    enter_general(alice.page)

    hostile = [sign_in(username) for username in names]
    for person in hostile:
        enter_general(person.page)
        say(person.page, f"hello from {person.username}")
    shown = list(names.values())

    expect_texts(alice.page, "#people .person-name", shown)
    expect_texts(alice.page, "#messages .message-author", shown)
    for person in (alice, *hostile):
        expect_inert(person)
    for person in hostile:
        expect(person.page.locator(".current-user")).to_have_text(names[person.username])

    rendered = reload_with_csp(alice.page).text()
    for name in shown:
        assert script_escaped(name) in rendered, "a name in history is not in the page's JSON, escaped"
    expect_texts(alice.page, "#messages .message-author", shown)
    expect_texts(alice.page, "#people .person-name", shown)
    expect_inert(alice)


def author_and_time_boxes(page: Page, name: str) -> tuple[dict, dict]:
    row = page.locator("#messages li.message", has=page.locator(".message-author", has_text=name)).last
    author, time = row.locator(".message-author").bounding_box(), row.locator("time").bounding_box()
    assert author is not None
    assert time is not None
    return author, time


def test_right_to_left_override_in_a_name_stays_inside_the_name(sign_in, chat_server: ChatServer):
    """A U+202E in a display name cannot flip the rest of its message row (bidi isolation)."""
    tag = uuid.uuid4().hex[:8]
    username, name = f"rtl-{tag}", f"Mallory\u202e {tag}"
    chat_server.add_users({username: name})
    alice, mallory = sign_in("alice"), sign_in(username)
    enter_general(alice.page)
    enter_general(mallory.page)
    say(mallory.page, f"look at my time {tag}")
    expect_texts(alice.page, "#messages .message-author", [name])

    author, time = author_and_time_boxes(alice.page, tag)
    assert time["x"] >= author["x"] + author["width"], "live: the name's override moved the time before it"
    reload_with_csp(alice.page)
    author, time = author_and_time_boxes(alice.page, tag)
    assert time["x"] >= author["x"] + author["width"], "history: the name's override moved the time before it"
