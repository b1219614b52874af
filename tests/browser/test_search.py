"""Searching from the dashboard and a room, and opening a result far back in its room's history."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ChatServer, Person
from tests.browser.test_accessibility import assert_accessible
from tests.browser.test_chat import expect_connected, say
from tests.browser.test_conversation import edit_own_message, row
from tests.browser.test_delivery import enter, shell, shown_texts

pytestmark = pytest.mark.browser

# Older than the page's 50 and than five pages forward from it: the page must reach for it.
FILLER = 260
# What the room page loads at a time, around a message included.
PAGE = 50


def room_with_old_message(server: ChatServer, word: str) -> str:
    """A room of the test's own: one message holding `word`, then FILLER messages after it ("filler 0"…)."""
    slug = f"search-{uuid.uuid4().hex[:8]}"
    shell(
        server,
        "from accounts.models import User\nfrom rooms.models import Room\n"
        "from rooms.services import message_create\n"
        f"room = Room.objects.create(slug={slug!r}, name='Archive {slug[-4:]}')\n"
        "bob = User.objects.get(username='bob')\n"
        f"message_create(room=room, author=bob, text='the {word} plan <b>is</b> on')\n"
        f"for n in range({FILLER}):\n    message_create(room=room, author=bob, text=f'filler {{n}}')\n",
    )
    return slug


def message_id(server: ChatServer, slug: str, text: str) -> str:
    """The id of the room's message with exactly this text."""
    return shell(
        server,
        "from rooms.models import Message\n"
        + f"print(Message.objects.get(room__slug={slug!r}, text={text!r}).pk)",
    ).strip()


def far_back(sign_in, server: ChatServer, slug: str, text: str) -> tuple[Page, Page]:
    """Bob in the room at its latest, and Alice opened at message `text` (as a result links): their pages."""
    found_id = message_id(server, slug, text)
    bob_page = enter(sign_in("bob"), slug)
    page = sign_in("alice").page
    page.goto(f"/rooms/{slug}/?message={found_id}")
    expect_connected(page)
    expect(page.locator("li.message.message-found")).to_have_count(1)
    return bob_page, page


def test_a_search_finds_an_old_message_and_opens_the_room_at_it(sign_in, chat_server: ChatServer):
    """Ctrl+K, words, Enter: the result names room and author, marks the words; opening it shows it marked."""
    word = f"zebra{uuid.uuid4().hex[:6]}"
    slug = room_with_old_message(chat_server, word)
    alice: Person = sign_in("alice")
    page = alice.page
    page.wait_for_load_state()  # the page's modules have run

    page.keyboard.press("Control+k")
    expect(page.get_by_role("searchbox", name="Search messages")).to_be_focused()
    page.keyboard.type(f"{word} plan")
    page.keyboard.press("Enter")

    results = page.locator(".search-result")
    expect(results).to_have_count(1)
    expect(page.locator(".search-status")).to_have_text(f"1 message matches “{word} plan”, newest first.")
    result = results.first
    expect(result.locator(".search-result-room")).to_have_text(f"Archive {slug[-4:]}")
    expect(result.locator(".search-result-author")).to_have_text("Bob")
    expect(result.locator(".search-result-text")).to_have_text(f"the {word} plan <b>is</b> on")  # as text
    expect(result.locator("mark")).to_have_text([word, "plan"])
    assert result.locator("b").count() == 0
    assert_accessible(page)

    result.get_by_role("link").click()

    found = page.locator("li.message.message-found")
    expect(found).to_have_count(1)
    expect(found.locator(".message-text")).to_have_text(f"the {word} plan <b>is</b> on")
    expect(found).to_be_focused()
    expect(found).to_be_in_viewport()
    # Amid its neighbours, not the whole way back from the latest.
    expect(page.locator("li.message")).to_have_count(PAGE)  # nothing older: newer ones fill the page
    assert shown_texts(page)[1:3] == ["filler 0", "filler 1"]
    expect(page.locator("#jump-latest")).to_be_visible()


def test_a_result_far_back_reads_on_to_the_latest_and_what_came_meanwhile(sign_in, chat_server: ChatServer):
    """Opened far back, new messages wait aside; jumping, or reading on, ends at the latest with them."""
    word = f"tapir{uuid.uuid4().hex[:6]}"
    slug = room_with_old_message(chat_server, word)
    bob_page, page = far_back(sign_in, chat_server, slug, "filler 130")
    first_shown = 130 - (PAGE - 1) // 2
    expected = [f"filler {n}" for n in range(first_shown, first_shown + PAGE)]
    assert shown_texts(page) == expected  # half a page before it, the rest after

    jump = page.locator("#jump-latest")
    expect(jump).to_have_text("Jump to latest ↓")  # her first visit: nothing counts as unread yet

    say(bob_page, "while you were reading")

    expect(jump).to_have_text("1 new message ↓")
    assert "while you were reading" not in shown_texts(page)  # not below a gap
    jump.click()
    expect(page.locator("li.message").last).to_contain_text("while you were reading")
    assert shown_texts(page)[-2] == f"filler {FILLER - 1}"
    expect(jump).to_be_hidden()
    expect(page.locator("#messages")).to_be_focused()

    page.goto(f"/rooms/{slug}/?message={message_id(chat_server, slug, 'filler 130')}")
    expect(page.locator("li.message.message-found")).to_have_count(1)
    log = page.locator("#messages")
    rows = page.locator("li.message")
    for _ in range(FILLER // PAGE + 2):  # reading on: each time the bottom is reached, the next page
        if "while you were reading" in rows.last.inner_text():
            break
        shown = rows.count()
        log.evaluate("el => { el.scrollTop = el.scrollHeight; }")
        expect(rows).not_to_have_count(shown)
    expect(rows.last).to_contain_text("while you were reading")
    log.evaluate("el => { el.scrollTop = el.scrollHeight; }")
    # Every message from the first shown on, once, in order.
    assert shown_texts(page)[:-1] == [f"filler {n}" for n in range(first_shown, FILLER)]
    expect(page.locator("#jump-latest")).to_be_hidden()


def test_what_changes_while_one_reads_far_back_is_as_it_stands_at_the_latest(sign_in, chat_server):
    """Bob edits and deletes what he sent while Alice reads far back; her own message takes her to the end."""
    slug = room_with_old_message(chat_server, f"gnu{uuid.uuid4().hex[:6]}")
    bob_page, page = far_back(sign_in, chat_server, slug, "filler 100")

    say(bob_page, "teh typo")
    say(bob_page, "take this back")
    expect(page.locator("#jump-latest")).to_have_text("2 new messages ↓")
    edit_own_message(bob_page, "teh typo", "the typo")
    expect(row(bob_page, "the typo").locator(".message-edited")).to_have_text("(edited)")
    taken = row(bob_page, "take this back")
    taken.hover()
    taken.get_by_role("button", name="Delete your message").click()
    taken.get_by_role("group", name="Delete this message?").get_by_role("button", name="Delete").click()
    expect(row(bob_page, "take this back")).to_have_count(0)

    say(page, "back with you")

    expect(page.locator("li.message").last).to_contain_text("back with you")
    assert shown_texts(page)[-3:] == [f"filler {FILLER - 1}", "the typo", "back with you"]
    expect(row(page, "the typo").locator(".message-edited")).to_have_text("(edited)")
    expect(page.locator("#jump-latest")).to_be_hidden()


def test_the_slash_key_searches_from_a_room_but_not_while_typing(sign_in, chat_server: ChatServer):
    """In a room, / goes to the search box, unless one is writing a message; Escape closes the results."""
    alice: Person = sign_in("alice")
    page = enter(alice, "general")
    composer = page.get_by_label("Message", exact=True)
    composer.fill("")
    composer.press("/")
    expect(composer).to_have_value("/")  # typed, not taken
    composer.fill("")

    page.locator("#messages").focus()
    page.keyboard.press("/")
    search = page.get_by_role("searchbox", name="Search messages")
    expect(search).to_be_focused()
    search.fill("x")
    search.press("Enter")
    expect(page.locator(".search-status")).to_contain_text("at least 2 letters")  # the server's reason

    search.press("Escape")
    expect(page.locator("#search-results")).to_be_hidden()
    expect(search).to_be_focused()


def test_a_private_room_never_shows_up_for_someone_outside_it(sign_in, chat_server: ChatServer):
    """Bob searches the word only a private room holds: nothing, said plainly; Alice, inside, finds it."""
    word = f"okapi{uuid.uuid4().hex[:6]}"
    shell(
        chat_server,
        "from accounts.models import User\nfrom rooms.models import Room, RoomMember\n"
        "from rooms.services import message_create\n"
        f"room = Room.objects.create(slug='secret-{word}', name='Secret', kind='private')\n"
        "alice = User.objects.get(username='alice')\nRoomMember.objects.create(room=room, user=alice)\n"
        f"message_create(room=room, author=alice, text='{word} budget')\n",
    )
    bob: Person = sign_in("bob")
    bob.page.wait_for_load_state()  # the search module has run: Enter searches here, not by the form's GET
    search = bob.page.get_by_role("searchbox", name="Search messages")
    search.fill(word)
    search.press("Enter")

    expect(bob.page.locator(".search-status")).to_have_text(f"No messages match “{word}”.")
    expect(bob.page.locator(".search-result")).to_have_count(0)

    alice: Person = sign_in("alice")
    alice.page.wait_for_load_state()
    search = alice.page.get_by_role("searchbox", name="Search messages")
    search.fill(word)
    search.press("Enter")
    expect(alice.page.locator(".search-result-room")).to_have_text(["Secret"])
