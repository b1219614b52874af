"""What a screen reader hears, and the keyboard patterns of the room's popups and toolbars.

What is heard is taken from the page's live regions as WAI-ARIA says a
screen reader reads them (live_regions.js records it): each thing is said
once, politely; what was there already, older history, reactions and the
person's own messages are not read out.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import PASSWORD_LINE, ChatServer, sign_in_at
from tests.browser.test_chat import expect_connected, say
from tests.browser.test_conversation import insert_history, row
from tests.browser.test_delivery import RECORD_SOCKETS, come_online, go_offline, new_room
from tests.servers import manage, server_env, start_server

pytestmark = pytest.mark.browser

LIVE_REGIONS = (Path(__file__).parent / "live_regions.js").read_text()


def listen(page: Page, slug: str) -> Page:
    """Open the room with the announcements recorded from the start."""
    page.add_init_script(LIVE_REGIONS)
    page.goto(f"/rooms/{slug}/")
    expect_connected(page)
    return page


def heard(page: Page) -> list[str]:
    return [said["text"] for said in page.evaluate("() => window.__announcements")]


def wait_to_hear(page: Page, text: str, times: int = 1) -> None:
    """Until `text` has been said `times` times (then the test looks at everything said)."""
    page.wait_for_function(
        "([text, times]) => window.__announcements.filter((said) => said.text === text).length >= times",
        arg=[text, times],
    )


def politeness(page: Page) -> set[str]:
    return {said["politeness"] for said in page.evaluate("() => window.__announcements")}


def test_joins_typing_messages_and_leaves_are_each_heard_once(sign_in, chat_server):
    """Alice hears Bob come in, start typing, speak and go, once each; Bob never hears his own message."""
    slug = new_room(chat_server)
    alice, bob = sign_in("alice"), sign_in("bob")
    page = listen(alice.page, slug)
    other = listen(bob.page, slug)
    expect(page.locator("#people li")).to_have_count(2)

    box = other.locator("#message-input")
    box.press_sequentially("on my way")
    expect(page.locator("#typing")).to_have_text("Bob is typing…")
    page.wait_for_timeout(3500)  # Bob types on: a second typing frame, nothing more to hear
    box.press_sequentially(", nearly there", delay=20)
    box.press("Enter")
    expect(row(page, "on my way, nearly there")).to_be_visible()
    say(other, "see you")
    expect(row(page, "see you")).to_be_visible()
    other.close()
    expect(page.locator("#people li")).to_have_count(1)

    wait_to_hear(page, "Bob left")
    assert heard(page) == [
        "Connected",
        "Bob joined",
        "Bob is typing…",
        "Bob: on my way, nearly there",
        "Bob: see you",
        "Bob left",
    ]
    assert politeness(page) == {"polite"}


def test_history_and_reactions_are_not_read_out_and_a_catch_up_is_counted(sign_in, chat_server):
    """Paging back and a reaction say nothing; after an outage: reconnecting, connected, "4 new messages"."""
    slug = new_room(chat_server)
    insert_history(chat_server, slug, 70)
    alice, bob = sign_in("alice"), sign_in("bob")
    other = listen(bob.page, slug)
    alice.page.add_init_script(RECORD_SOCKETS)
    page = listen(alice.page, slug)

    log = page.locator("#messages")
    log.evaluate("(el) => { el.scrollTop = 0; el.dispatchEvent(new Event('scroll')); }")
    expect(page.locator("#history-status")).to_have_text("This is the beginning of the room.")
    message = row(other, "old 70")
    message.hover()
    message.get_by_role("button", name="React to Bob's message").click()
    other.get_by_role("button", name="React with 🎉").click()
    expect(row(page, "old 70").locator("button.reaction")).to_have_attribute("aria-label", "🎉 1: Bob")
    assert heard(page) == ["Connected"]

    go_offline(alice)
    for n in range(1, 5):
        say(other, f"while away {n}")
    # All four stored before Alice is back: the catch-up counts only what one replay brings.
    expect(row(other, "while away 4")).to_be_visible()
    come_online(alice)
    expect(row(page, "while away 4")).to_be_visible()

    wait_to_hear(page, "4 new messages")
    assert heard(page) == ["Connected", "Reconnecting…", "Connected", "4 new messages"]


def test_the_same_news_twice_is_heard_twice(sign_in, chat_server):
    """Bob leaving, coming back and leaving again: each one is said, though the words repeat."""
    slug = new_room(chat_server)
    alice, bob = sign_in("alice"), sign_in("bob")
    page = listen(alice.page, slug)
    for _ in range(2):
        visit = bob.reopen()
        visit.goto(f"/rooms/{slug}/")
        expect_connected(visit)
        expect(page.locator("#people li")).to_have_count(2)
        visit.close()
        expect(page.locator("#people li")).to_have_count(1)

    wait_to_hear(page, "Bob left", times=2)
    assert heard(page) == ["Connected", "Bob joined", "Bob left", "Bob joined", "Bob left"]


def test_people_arriving_together_are_listed_and_heard_as_one_announcement(browser, tmp_path):
    """Three come in while presence news waits (the server coalesces it): Alice's page lists all three
    from one presence_diff and hears "3 people joined" once, before what the last of them does."""
    env = server_env(
        DJANGO_DEBUG="1", DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}", CHAT_PRESENCE_COALESCE="60"
    )
    manage(env, "migrate", "--no-input")
    printed = manage(env, "ensure_demo_users", "--passwords-file", str(tmp_path / "demo-passwords.json"))
    server = start_server(env, tmp_path)
    chat = ChatServer(
        url=server.url,
        passwords={m["username"]: m["password"] for m in PASSWORD_LINE.finditer(printed)},
        log_path=server.log_path,
        env=env,
    )
    chat.add_users({"carol": "Carol"})
    # A room of its own: on the services pass, other servers share Redis (and General's presence).
    slug = new_room(chat)
    contexts = []

    def signed_in(username: str) -> Page:
        context, page = sign_in_at(browser, chat, username)
        contexts.append(context)
        return page

    try:
        page = listen(signed_in("alice"), slug)
        others = [listen(signed_in(username), slug) for username in ("bob", "carol", "admin")]
        expect(page.locator("#people li")).to_have_count(1)  # the news waits
        say(others[-1], "all here")
        expect(row(page, "all here")).to_be_visible()
        expect(page.locator("#people li")).to_have_count(4)
        wait_to_hear(page, "Admin: all here")
        # Admin typing is the room's next frame: the waiting news goes out before it.
        assert heard(page) == ["Connected", "3 people joined", "Admin is typing…", "Admin: all here"]
    finally:
        for context in contexts:
            context.close()
        server.stop()


def test_a_message_toolbar_is_one_tab_stop_and_arrows_move_within_it(sign_in, chat_server):
    """Tab reaches a message's first action only; Right, Left, Home and End move along; Tab leaves."""
    slug = new_room(chat_server)
    alice = sign_in("alice")
    page = listen(alice.page, slug)
    say(page, "first")
    say(page, "second")
    first, second = row(page, "first"), row(page, "second")
    # Tab goes to the next stop there is: "second" must be stored and shown before it is pressed.
    expect(second).to_be_visible()
    toolbar = first.get_by_role("toolbar", name="Actions on Alice's message")
    react = toolbar.get_by_role("button", name="React to Alice's message")
    edit = toolbar.get_by_role("button", name="Edit your message")
    delete = toolbar.get_by_role("button", name="Delete your message")

    react.focus()
    page.keyboard.press("Tab")
    expect(second.get_by_role("button", name="React to Alice's message")).to_be_focused()
    page.keyboard.press("Shift+Tab")
    expect(react).to_be_focused()
    page.keyboard.press("ArrowRight")
    expect(edit).to_be_focused()
    page.keyboard.press("End")
    expect(delete).to_be_focused()
    page.keyboard.press("ArrowRight")
    expect(react).to_be_focused()
    page.keyboard.press("ArrowLeft")
    expect(delete).to_be_focused()

    # The toolbar remembers where its person was: Tab away and back lands on Delete.
    page.keyboard.press("Tab")
    page.keyboard.press("Shift+Tab")
    expect(delete).to_be_focused()
    page.keyboard.press("Enter")
    keep = first.get_by_role("button", name="Keep")
    expect(keep).to_be_focused()
    page.keyboard.press("Escape")
    expect(delete).to_be_focused()
    expect(first).to_be_visible()
    page.keyboard.press("Home")
    expect(react).to_be_focused()


def test_the_reaction_picker_is_one_tab_stop_of_emoji_and_closes_on_escape_or_leaving(sign_in, chat_server):
    """Arrows move among the emoji, Tab goes on to the emoji box, Escape or tabbing out closes it."""
    slug = new_room(chat_server)
    alice = sign_in("alice")
    page = listen(alice.page, slug)
    say(page, "pick one")
    react = row(page, "pick one").get_by_role("button", name="React to Alice's message")
    picker = page.get_by_role("dialog", name="Add a reaction")

    react.focus()
    page.keyboard.press("Enter")
    expect(react).to_have_attribute("aria-expanded", "true")
    expect(picker.get_by_role("button", name="React with 👍")).to_be_focused()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    expect(picker.get_by_role("button", name="React with 😂")).to_be_focused()
    page.keyboard.press("Tab")
    expect(picker.get_by_role("textbox", name="Any other emoji")).to_be_focused()
    page.keyboard.press("Shift+Tab")
    expect(picker.get_by_role("button", name="React with 😂")).to_be_focused()
    page.keyboard.press("Escape")
    expect(picker).to_be_hidden()
    expect(react).to_be_focused()
    expect(react).to_have_attribute("aria-expanded", "false")

    page.keyboard.press("Enter")
    expect(picker.get_by_role("button", name="React with 😂")).to_be_focused()  # where it was left
    page.keyboard.press("Shift+Tab")  # out of the picker, back into the page
    expect(picker).to_be_hidden()
    expect(react).to_have_attribute("aria-expanded", "false")


def test_mention_completion_is_a_combobox_whose_options_the_arrows_walk(sign_in, chat_server):
    """@ offers a listbox; Down and Up move the active option (focus stays in the box); Escape closes it."""
    slug = new_room(chat_server)
    chat_server.add_users({"bobby": "Bobby Tables"})
    alice = sign_in("alice")
    page = listen(alice.page, slug)
    box = page.get_by_role("combobox", name="Message")
    box.fill("hi @bob")  # one input, one look-up: typing it key by key could show "@bo"'s list first
    listbox = page.get_by_role("listbox", name="People to mention")
    options = listbox.get_by_role("option")
    expect(options).to_have_count(2)
    expect(box).to_have_attribute("aria-controls", "mention-list")
    expect(box).to_have_attribute("aria-expanded", "true")
    expect(box).to_have_attribute("aria-activedescendant", "mention-option-0")
    expect(options.nth(0)).to_have_attribute("aria-selected", "true")

    box.press("ArrowDown")
    expect(box).to_have_attribute("aria-activedescendant", "mention-option-1")
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    expect(options.nth(0)).to_have_attribute("aria-selected", "false")
    expect(box).to_be_focused()
    box.press("ArrowDown")  # wraps
    expect(box).to_have_attribute("aria-activedescendant", "mention-option-0")
    box.press("ArrowUp")
    expect(box).to_have_attribute("aria-activedescendant", "mention-option-1")

    box.press("Escape")
    expect(listbox).to_be_hidden()
    expect(box).to_have_attribute("aria-expanded", "false")
    expect(box).not_to_have_attribute("aria-activedescendant", "mention-option-1")
    expect(box).to_have_value("hi @bob")  # Escape closes the list, and keeps what was typed
