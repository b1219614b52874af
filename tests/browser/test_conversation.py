"""The conversation in the browser: paging back, days, edit, delete, react, mention, links, drafts.

Two people in two browsers on the real server; what they see is checked
on both screens and what is stored in the server's database.
"""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Page, WebSocketRoute, expect

from tests.browser.conftest import ChatServer, Person
from tests.browser.test_chat import expect_connected, say
from tests.browser.test_delivery import come_online, go_offline, new_room, shell, stored_texts
from tests.browser.test_delivery import enter as enter_recording_sockets

pytestmark = pytest.mark.browser

TEXTS = "#messages li.message .message-text"


def enter(person: Person, slug: str) -> Page:
    page = person.page
    page.goto(f"/rooms/{slug}/")
    expect_connected(page)
    return page


def row(page: Page, text: str):
    """The message whose text is exactly `text`."""
    exactly = re.compile(f"^{re.escape(text)}$")
    return (
        page.locator("#messages li.message").filter(has=page.locator(".message-text", has_text=exactly)).last
    )


def edit_own_message(page: Page, text: str, new_text: str) -> None:
    """Edit one's own message as people do: hover, Edit, type, Enter."""
    mine = row(page, text)
    mine.hover()
    mine.get_by_role("button", name="Edit your message").click()
    editor = page.get_by_role("textbox", name="Edit your message")
    editor.fill(new_text)
    editor.press("Enter")


def stored_values(server: ChatServer, model: str, slug: str, field: str) -> list:
    """One field of every row of a rooms model (MessageRevision, Mention) about the room's messages."""
    code = (
        f"import json\nfrom rooms.models import {model}\n"
        f"rows = {model}.objects.filter(message__room__slug={slug!r}).order_by('id')\n"
        f"print(json.dumps(list(rows.values_list({field!r}, flat=True))))"
    )
    return json.loads(shell(server, code))


def insert_history(
    server: ChatServer, slug: str, count: int, *, days_ago: int = 0, prefix: str = "old"
) -> None:
    """`count` messages by bob in the room, texts "<prefix> 1".., written `days_ago` days back."""
    shell(
        server,
        "from datetime import timedelta\nfrom django.utils import timezone\n"
        "from accounts.models import User\nfrom rooms.models import Message, Room\n"
        "from tests.factories import message_insert\n"
        f"room = Room.objects.get(slug={slug!r}); bob = User.objects.get(username='bob')\n"
        f"for n in range(1, {count + 1}):\n"
        f"    m = message_insert(room=room, author=bob, text=f'{prefix} {{n}}')\n"
        f"    written = timezone.now() - timedelta(days={days_ago})\n"
        "    Message.objects.filter(pk=m.pk).update(created_at=written)\n",
    )


def test_paging_back_through_120_messages_shows_every_one_in_order(sign_in, chat_server):
    """Scrolling to the top loads older pages until the room's beginning; Jump to latest comes back down."""
    slug = new_room(chat_server)
    insert_history(chat_server, slug, 120)
    page = enter(sign_in("alice"), slug)
    expect(page.locator(TEXTS)).to_have_count(50)
    log = page.locator("#messages")

    beginning = page.locator("#history-status")
    for _ in range(10):
        log.evaluate("(el) => { el.scrollTop = 0; el.dispatchEvent(new Event('scroll')); }")
        page.wait_for_timeout(300)
        if beginning.inner_text() == "This is the beginning of the room.":
            break

    expect(beginning).to_have_text("This is the beginning of the room.")
    expect(page.locator(TEXTS)).to_have_text([f"old {n}" for n in range(1, 121)])
    jump = page.get_by_role("button", name="Jump to latest")
    expect(jump).to_be_visible()
    jump.click()
    expect(jump).to_be_hidden()
    at_bottom = log.evaluate("(el) => el.scrollHeight - el.scrollTop - el.clientHeight < 80")
    assert at_bottom


def test_days_are_headed_and_every_time_has_its_full_date(sign_in, chat_server):
    """Yesterday's messages sit under "Yesterday", today's under "Today"; each time carries its date."""
    slug = new_room(chat_server)
    insert_history(chat_server, slug, 2, days_ago=1, prefix="yesterday")
    insert_history(chat_server, slug, 2, prefix="today")
    page = enter(sign_in("alice"), slug)

    expect(page.locator("#messages .day-divider")).to_have_text(["Yesterday", "Today"])
    first_today = row(page, "today 1")
    expect(first_today.locator(".day-divider")).to_have_text("Today")
    # The second of a run by one author is grouped under the first: no repeated name.
    expect(row(page, "today 2")).to_have_class("message continued")
    for time in page.locator("#messages time").all():
        assert time.get_attribute("datetime").endswith("Z")
        assert len(time.get_attribute("title") or "") > 10


def test_editing_your_own_message_changes_it_on_every_screen(sign_in, chat_server):
    """Alice fixes a typo with Edit and Enter; Bob sees the new text marked edited; the old one is kept."""
    slug = new_room(chat_server)
    alice, bob = sign_in("alice"), sign_in("bob")
    page, other = enter(alice, slug), enter(bob, slug)
    say(page, "teh typo")
    expect(row(other, "teh typo")).to_be_visible()
    expect(row(other, "teh typo").get_by_role("button", name="Edit your message")).to_have_count(0)

    mine = row(page, "teh typo")
    mine.hover()
    mine.get_by_role("button", name="Edit your message").click()
    editor = page.get_by_role("textbox", name="Edit your message")
    expect(editor).to_be_focused()
    editor.fill("the typo")
    editor.press("Enter")

    for screen in (page, other):
        expect(row(screen, "the typo").locator(".message-edited")).to_have_text("(edited)")
    expect(editor).to_have_count(0)
    assert stored_texts(chat_server, slug) == ["the typo"]
    earlier = stored_values(chat_server, "MessageRevision", slug, "text")
    assert earlier == ["teh typo"]


def test_deleting_your_own_message_takes_it_off_every_screen(sign_in, chat_server):
    """Delete asks once more in place (never a dialog box); then the message is gone for both."""
    slug = new_room(chat_server)
    alice, bob = sign_in("alice"), sign_in("bob")
    page, other = enter(alice, slug), enter(bob, slug)
    say(page, "keep this")
    say(page, "take this back")
    expect(other.locator(TEXTS)).to_have_text(["keep this", "take this back"])

    mine = row(page, "take this back")
    mine.hover()
    mine.get_by_role("button", name="Delete your message").click()
    confirm = mine.get_by_role("group", name="Delete this message?")
    confirm.get_by_role("button", name="Delete").click()

    for screen in (page, other):
        expect(screen.locator(TEXTS)).to_have_text(["keep this"])
    assert stored_texts(chat_server, slug) == ["keep this"]
    assert alice.dialogs == []


def test_reactions_toggle_and_say_who_reacted(sign_in, chat_server):
    """Bob reacts from the picker, Alice joins in, Bob takes his back; any emoji may be typed too."""
    slug = new_room(chat_server)
    alice, bob = sign_in("alice"), sign_in("bob")
    page, other = enter(alice, slug), enter(bob, slug)
    say(page, "ship it?")
    message = row(other, "ship it?")
    message.hover()
    message.get_by_role("button", name="React to Alice's message").click()
    picker = other.get_by_role("dialog", name="Add a reaction")
    expect(picker.get_by_role("button", name="React with 👍")).to_be_focused()
    other.keyboard.press("Enter")
    expect(picker).to_be_hidden()

    thumbs = row(page, "ship it?").locator("button.reaction")
    expect(thumbs).to_have_attribute("aria-label", "👍 1: Bob")
    expect(thumbs).to_have_attribute("aria-pressed", "false")
    thumbs.focus()
    page.keyboard.press("Enter")
    expect(thumbs).to_have_attribute("aria-label", "👍 2: Bob, Alice")
    expect(thumbs).to_have_attribute("aria-pressed", "true")
    expect(thumbs).to_be_focused()  # rebuilt, yet the keyboard stays where it was
    row(other, "ship it?").locator("button.reaction").click()
    expect(thumbs).to_have_attribute("aria-label", "👍 1: Alice")

    message.hover()
    message.get_by_role("button", name="React to Alice's message").click()
    picker.get_by_placeholder("Any emoji").fill("🦄")
    picker.get_by_role("button", name="Add").click()
    expect(row(page, "ship it?").locator("button.reaction .reaction-emoji")).to_have_text(["👍", "🦄"])


def test_mentioning_someone_completes_their_handle_and_highlights_it_for_them(sign_in, chat_server):
    """@bo offers Bob; Enter takes him; Bob sees the message highlighted, and the mention is stored."""
    slug = new_room(chat_server)
    alice, bob = sign_in("alice"), sign_in("bob")
    page, other = enter(alice, slug), enter(bob, slug)
    box = page.locator("#message-input")
    box.press_sequentially("thanks @bo")
    options = page.get_by_role("listbox", name="People to mention").get_by_role("option")
    expect(options.first).to_contain_text("Bob")
    expect(box).to_have_attribute("aria-expanded", "true")
    box.press("Enter")
    expect(box).to_have_value("thanks @bob ")
    box.press_sequentially("for the review")
    box.press("Enter")

    mention = row(other, "thanks @bob for the review")
    expect(mention).to_have_class("message mentioned")
    expect(mention.locator(".mention")).to_have_text("@bob")
    expect(row(page, "thanks @bob for the review")).not_to_have_class("message own mentioned")
    assert stored_values(chat_server, "Mention", slug, "user__username") == ["bob"]


def test_links_open_in_a_new_tab_and_other_schemes_stay_text(sign_in, chat_server):
    """An https URL becomes a safe link that opens in a new tab; javascript: stays plain text."""
    slug = new_room(chat_server)
    alice = sign_in("alice")
    alice.context.route(
        "https://docs.example.org/**",
        lambda route: route.fulfill(body="<title>Docs</title>", content_type="text/html"),
    )
    page = enter(alice, slug)
    typed = "read https://docs.example.org/guide?x=1. or javascript:alert(1)"
    say(page, typed)

    link = row(page, typed).get_by_role("link")
    expect(link).to_have_count(1)
    expect(link).to_have_text("https://docs.example.org/guide?x=1")
    expect(link).to_have_attribute("rel", "noopener noreferrer nofollow ugc")
    expect(link).to_have_attribute("target", "_blank")
    with alice.context.expect_page() as opened:
        link.click()
    assert opened.value.url == "https://docs.example.org/guide?x=1"
    expect(row(page, typed).locator(".message-text")).to_contain_text("javascript:alert(1)")


def test_the_box_is_focused_on_entering_and_keeps_its_draft_across_a_reload(sign_in, chat_server):
    """What was typed but not sent is still in the box after a reload, and the box has the focus."""
    slug = new_room(chat_server)
    alice = sign_in("alice")
    page = enter(alice, slug)
    box = page.locator("#message-input")
    expect(box).to_be_focused()
    box.press_sequentially("half a thought")
    page.wait_for_timeout(500)

    page.reload()
    expect_connected(page)
    expect(box).to_have_value("half a thought")
    expect(box).to_be_focused()
    box.press("Enter")
    expect(page.locator(TEXTS)).to_have_text(["half a thought"])
    page.reload()
    expect(box).to_have_value("")


def test_pages_agree_on_edits_and_reactions_made_while_one_was_away(sign_in, chat_server):
    """A page that missed an edit and a reaction shows both once it is back (replayed by seq)."""
    slug = new_room(chat_server)
    alice, bob = sign_in("alice"), sign_in("bob")
    page, other = enter(alice, slug), enter_recording_sockets(bob, slug)
    say(page, "first draft")
    expect(row(other, "first draft")).to_be_visible()
    go_offline(bob)

    edit_own_message(page, "first draft", "final draft")
    expect(row(page, "final draft")).to_be_visible()
    code = json.dumps(slug)
    shell(
        chat_server,
        "from accounts.models import User\nfrom rooms.models import Message, Room\n"
        "from rooms.services import reaction_toggle\n"
        f"room = Room.objects.get(slug={code}); m = Message.objects.get(room=room)\n"
        "reaction_toggle(room=room, message_id=m.pk, user=User.objects.get(username='alice'), emoji='🎉')\n",
    )

    come_online(bob)
    expect(row(other, "final draft").locator(".message-edited")).to_have_text("(edited)")
    expect(row(other, "final draft").locator("button.reaction")).to_have_attribute(
        "aria-label", "🎉 1: Alice"
    )


def test_a_change_to_a_message_further_back_than_the_page_leaves_no_gap(sign_in, chat_server):
    """Message 10 of 120 gets a reaction while the page is away: the replay does not put it above a hole."""
    slug = new_room(chat_server)
    insert_history(chat_server, slug, 120)
    alice = sign_in("alice")
    page = enter_recording_sockets(alice, slug)
    expect(page.locator(TEXTS)).to_have_count(50)
    go_offline(alice)
    shell(
        chat_server,
        "from accounts.models import User\nfrom rooms.models import Message, Room\n"
        "from rooms.services import reaction_toggle\n"
        f"room = Room.objects.get(slug={slug!r}); m = Message.objects.get(room=room, text='old 10')\n"
        "reaction_toggle(room=room, message_id=m.pk, user=User.objects.get(username='bob'), emoji='🎉')\n",
    )
    come_online(alice)
    expect_connected(page)
    expect(page.locator(TEXTS)).to_have_text([f"old {n}" for n in range(71, 121)])

    beginning = page.locator("#history-status")
    for _ in range(10):
        page.locator("#messages").evaluate(
            "(el) => { el.scrollTop = 0; el.dispatchEvent(new Event('scroll')); }"
        )
        page.wait_for_timeout(300)
        if beginning.inner_text() == "This is the beginning of the room.":
            break
    expect(page.locator(TEXTS)).to_have_text([f"old {n}" for n in range(1, 121)])
    expect(row(page, "old 10").locator("button.reaction")).to_have_attribute("aria-label", "🎉 1: Bob")


def test_a_message_the_server_never_got_shows_failed_and_retry_sends_it_once(sign_in, chat_server):
    """A frame lost on the way: the message shows "Not sent yet" with Retry, which stores it once."""
    slug = new_room(chat_server)
    alice = sign_in("alice")
    lost: list[dict] = []

    def drop_the_first_send(ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()

        def from_page(message: str | bytes) -> None:
            frame = json.loads(message)
            if frame.get("type") == "message" and not lost:
                lost.append(frame)
                return
            server.send(message)

        ws.on_message(from_page)

    alice.page.route_web_socket(re.compile(r"/ws/rooms/"), drop_the_first_send)
    page = enter(alice, slug)
    say(page, "lost on the way")

    pending = page.locator("#pending li")
    expect(pending.locator(".pending-text")).to_have_text("lost on the way")
    expect(pending.locator(".pending-state")).to_have_text("Not sent yet", timeout=15_000)
    assert stored_texts(chat_server, slug) == []
    pending.get_by_role("button", name="Retry").click()

    expect(page.locator(TEXTS)).to_have_text(["lost on the way"])
    expect(page.locator("#pending")).to_be_hidden()
    assert stored_texts(chat_server, slug) == ["lost on the way"]
    assert len(lost) == 1
