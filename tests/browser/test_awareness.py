"""Awareness in the browser: who is typing, where the new messages start, and the unread count.

Two people in two browsers on the real server.
"""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PASSWORD_LINE
from tests.browser.test_chat import expect_connected, say
from tests.browser.test_conversation import TEXTS, enter, insert_history, row
from tests.browser.test_delivery import RECORD_SOCKETS, new_room, shell
from tests.servers import manage, server_env, start_server

pytestmark = pytest.mark.browser


def test_the_others_see_who_is_typing_until_the_message_arrives(sign_in, chat_server):
    """Bob writing shows "Bob is typing…" to Alice, not to Bob; his message takes it away."""
    slug = new_room(chat_server)
    alice, bob = sign_in("alice"), sign_in("bob")
    page, other = enter(alice, slug), enter(bob, slug)

    other.locator("#message-input").press_sequentially("on my way")
    expect(page.locator("#typing")).to_have_text("Bob is typing…")
    expect(other.locator("#typing")).to_have_text("")

    other.locator("#message-input").press("Enter")
    expect(row(page, "on my way")).to_be_visible()
    expect(page.locator("#typing")).to_have_text("")


def test_coming_back_to_a_room_opens_at_the_new_messages_line(sign_in, chat_server):
    """What Bob said while Alice was away sits under "New messages"; what she had read does not."""
    slug = new_room(chat_server)
    alice, bob = sign_in("alice"), sign_in("bob")
    page = enter(alice, slug)
    other = enter(bob, slug)
    say(other, "read already")
    expect(row(page, "read already")).to_be_visible()
    page.wait_for_timeout(1500)  # the page reports what it has read (at most once a second)
    page.goto("/rooms/")

    say(other, "while you were out 1")
    say(other, "while you were out 2")
    expect(row(other, "while you were out 2")).to_be_visible()  # stored before Alice's page is built
    page.goto(f"/rooms/{slug}/")

    divider = page.locator("#messages .unread-divider")
    expect(divider).to_have_count(1)
    expect(row(page, "while you were out 1").locator(".unread-divider")).to_have_text("New messages")
    expect(row(page, "read already").locator(".unread-divider")).to_have_count(0)


def test_messages_arriving_while_scrolled_up_are_counted_in_the_title_and_the_jump(sign_in, chat_server):
    """Scrolled up, the tab title says "(2) …" and the jump control "2 new messages"; reading clears both."""
    slug = new_room(chat_server)
    insert_history(chat_server, slug, 60)
    alice, bob = sign_in("alice"), sign_in("bob")
    page, other = enter(alice, slug), enter(bob, slug)
    title = page.title()
    page.locator("#messages").evaluate("(el) => { el.scrollTop = el.scrollHeight / 2; }")

    say(other, "news 1")
    say(other, "news 2")

    expect(page).to_have_title(f"(2) {title}")
    jump = page.get_by_role("button", name="2 new messages")
    expect(jump).to_be_visible()
    jump.click()
    expect(page).to_have_title(title)
    expect(page.locator(TEXTS).last).to_have_text("news 2")
    expect(page.get_by_role("button", name=re.compile("new message"))).to_have_count(0)


def test_the_dashboard_counts_unread_messages_mentions_and_people_live(sign_in, chat_server):
    """Alice's dashboard, never reloaded: Bob coming in, his messages and his mention of her show live."""
    slug = new_room(chat_server)
    alice, bob = sign_in("alice"), sign_in("bob")
    enter(alice, slug)  # Alice has been in the room: what is said there now is unread for her
    dashboard = alice.page
    dashboard.goto("/rooms/")
    card = dashboard.locator(f'a.room-card[data-room="{slug}"]')
    expect(card.locator('[data-count="online"]')).to_have_text("0")
    expect(card.locator(".room-card-online")).to_have_attribute("data-online", "0")
    expect(card.locator(".room-card-unread")).to_be_hidden()

    other = enter(bob, slug)
    expect(card.locator('[data-count="online"]')).to_have_text("1")
    say(other, "anyone here?")
    say(other, "@alice your turn")

    expect(card.locator(".room-card-unread")).to_have_text("2 unread")
    expect(card.locator(".room-card-mentions")).to_have_text("1 @ mentioning you")
    expect(card.locator("time[data-last-activity]")).not_to_have_text("none yet")

    alice.reopen().goto(f"/rooms/{slug}/")  # reading it in another tab clears the counts here
    expect(card.locator(".room-card-unread")).to_be_hidden()
    expect(card.locator(".room-card-mentions")).to_be_hidden()


# Every text the connection badge shows, in order (what a screen reader would read).
RECORD_BADGE = """
(() => {
  window.__badge = [];
  const start = () => {
    const badge = document.getElementById('connection-state');
    new MutationObserver(() => window.__badge.push(badge.textContent)).observe(
      badge, { childList: true, characterData: true, subtree: true });
  };
  document.addEventListener('DOMContentLoaded', start);
})();
"""


def test_the_page_reconnects_as_soon_as_the_server_answers_again(browser, tmp_path):
    """The server goes away and comes back: Reconnecting… said once, Retry now offered, then Connected.

    How long after the server answered /healthz again the page was connected
    is printed for the log; it is measured, not asserted.
    """
    env = server_env(DJANGO_DEBUG="1", DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    manage(env, "migrate", "--no-input")
    printed = manage(env, "ensure_demo_users", "--passwords-file", str(tmp_path / "demo-passwords.json"))
    passwords = {m["username"]: m["password"] for m in PASSWORD_LINE.finditer(printed)}
    server = start_server(env, tmp_path, name="before")
    context = browser.new_context(base_url=server.url)
    try:
        page = context.new_page()
        page.add_init_script(RECORD_BADGE)
        page.goto("/accounts/login/")
        page.locator("#id_username").fill("alice")
        page.locator("#id_password").fill(passwords["alice"])
        page.get_by_role("button", name="Sign in").click()
        page.goto("/rooms/general/")
        expect_connected(page)
        answered: list[float] = []
        page.on(
            "response",
            lambda r: (
                answered.append(time.monotonic()) if r.url.endswith("/healthz") and r.status == 200 else None
            ),
        )

        server.stop()
        expect(page.locator("#connection-state")).to_have_text("Reconnecting…")
        expect(page.get_by_role("button", name="Retry now")).to_be_visible()
        # The people list may be out of date, and looks it (dashed, not faded: contrast stays AA).
        assert (
            page.locator(".people-panel").evaluate("(el) => getComputedStyle(el).borderTopStyle") == "dashed"
        )
        page.wait_for_timeout(3000)  # several probes fail meanwhile: nothing more is announced

        server = start_server(env, tmp_path, name="after", port=server.port)
        back_at = time.monotonic()  # start_server returns once /healthz answers 200
        expect_connected(page)
        connected_at = time.monotonic()
        print(
            f"\nreconnected {1000 * (connected_at - back_at):.0f} ms after the server answered /healthz again"
            f" ({1000 * (connected_at - answered[0]):.0f} ms after the page's own probe did)"
        )
        expect(page.get_by_role("button", name="Retry now")).to_be_hidden()
        assert page.evaluate("() => window.__badge").count("Reconnecting…") == 1
    finally:
        context.close()
        server.stop()


# Notifications as the page makes them, and a tab the test can hide.
RECORD_NOTIFICATIONS = """
(() => {
  window.__shown = [];
  window.__hidden = false;
  Object.defineProperty(document, 'hidden', { get: () => window.__hidden });
  Object.defineProperty(document, 'visibilityState', { get: () => (window.__hidden ? 'hidden' : 'visible') });
  const Native = window.Notification;
  window.Notification = class extends Native {
    constructor(title, options) { super(title, options); window.__shown.push({ title, body: options.body }); }
  };
})();
"""


def test_a_mention_while_the_tab_is_hidden_notifies_and_nothing_else_does(sign_in, chat_server):
    """With notifications on, only a mention while the tab is hidden shows one."""
    slug = new_room(chat_server)
    alice, bob = sign_in("alice"), sign_in("bob")
    alice.context.grant_permissions(["notifications"])
    alice.page.add_init_script(RECORD_NOTIFICATIONS)
    page, other = enter(alice, slug), enter(bob, slug)
    toggle = page.get_by_role("button", name="Notify me of mentions")
    toggle.click()
    expect(page.get_by_role("button", name="Notifications on")).to_have_attribute("aria-pressed", "true")

    say(other, "@alice while you look")
    expect(row(page, "@alice while you look")).to_be_visible()
    page.evaluate("() => { window.__hidden = true; }")
    say(other, "nothing for you")
    say(other, "@alice are you there?")
    expect(row(page, "@alice are you there?")).to_be_visible()

    shown = page.evaluate("() => window.__shown")
    assert shown == [{"title": "Bob mentioned you in Delivery", "body": "@alice are you there?"}]


def test_a_dashboard_that_reconnects_shows_rooms_made_and_archived_meanwhile(sign_in, chat_server):
    """Its welcome lists every room: a new room gets a card, an archived one loses its card."""
    slug = new_room(chat_server)
    alice = sign_in("alice")
    dashboard = alice.page
    dashboard.add_init_script(RECORD_SOCKETS)
    dashboard.goto("/rooms/")
    expect(dashboard.locator(f'a.room-card[data-room="{slug}"]')).to_be_visible()
    expect(dashboard.locator("#dashboard-state")).to_have_text("")

    later = new_room(chat_server)
    shell(
        chat_server,
        f"from rooms.models import Room\nRoom.objects.filter(slug={slug!r}).update(archived=True)",
    )
    dashboard.evaluate("() => window.__sockets.forEach((socket) => socket.close())")

    expect(dashboard.locator(f'a.room-card[data-room="{later}"]')).to_be_visible()
    expect(dashboard.locator(f'a.room-card[data-room="{slug}"]')).to_have_count(0)
    expect(dashboard.locator(f'a.room-card[data-room="{later}"] time')).to_have_text("none yet")
