"""The room page follows the room's event log (README "Delivery"): it converges on what is stored.

Frames the server never broadcasts stand in for lost ones: a change made in
`manage.py shell` goes through the real services, but that process's channel
layer reaches no socket, just as a frame dropped by the layer reaches none.
"""

from __future__ import annotations

import json
import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ChatServer, Person
from tests.browser.test_chat import expect_connected, say
from tests.servers import manage

pytestmark = pytest.mark.browser

# Remembers every socket the page opens, so a test can cut them as a network would.
RECORD_SOCKETS = """
(() => {
  const Native = window.WebSocket;
  window.__sockets = [];
  window.WebSocket = class extends Native {
    constructor(...args) { super(...args); window.__sockets.push(this); }
  };
})();
"""


def shell(server: ChatServer, code: str) -> str:
    """Run Python in the server's database with the real services (its channel layer reaches no one)."""
    return manage(server.env, "shell", "-v", "0", "-c", code)


def new_room(server: ChatServer) -> str:
    """A room of the test's own, so what is stored is only what the test stored."""
    slug = f"delivery-{uuid.uuid4().hex[:8]}"
    shell(server, f"from rooms.models import Room\nRoom.objects.create(slug={slug!r}, name='Delivery')")
    return slug


def stored_texts(server: ChatServer, slug: str) -> list[str]:
    """The visible (not deleted) messages of the room, oldest first, as stored."""
    code = (
        "import json\nfrom rooms.models import Message\n"
        f"print(json.dumps(list(Message.objects.filter(room__slug={slug!r}, deleted_at__isnull=True)"
        ".order_by('id').values_list('text', flat=True))))"
    )
    return json.loads(shell(server, code))


def delete_quietly(server: ChatServer, slug: str, text: str) -> None:
    """A moderator's deletion, through the service, that no socket hears of."""
    shell(
        server,
        "from accounts.models import User\nfrom rooms.models import Message\n"
        "from rooms.services import message_delete\n"
        f"message = Message.objects.select_related('room').get(room__slug={slug!r}, text={text!r})\n"
        "message_delete(message=message, by=User.objects.get(username='admin'))",
    )


def post_quietly(server: ChatServer, slug: str, text: str) -> None:
    """A message stored through the service whose broadcast is lost."""
    shell(
        server,
        "from accounts.models import User\nfrom rooms.models import Room\n"
        "from rooms.services import message_create\n"
        f"message_create(room=Room.objects.get(slug={slug!r}), author=User.objects.get(username='bob'), "
        f"text={text!r})",
    )


def shown_texts(page: Page) -> list[str]:
    return page.locator("#messages li.message .message-text").all_inner_texts()


def enter(person: Person, slug: str) -> Page:
    page = person.page
    page.add_init_script(RECORD_SOCKETS)
    page.goto(f"/rooms/{slug}/")
    expect_connected(page)
    return page


# What a page asks for while it reconnects: its probe and its tickets.
RECONNECTING = re.compile(r"/(healthz|rooms/[^/]+/token/)")


def go_offline(person: Person) -> None:
    """The network goes away: the open socket drops and no reconnect gets through.

    The socket is closed before Chromium goes offline: offline first (with a
    route set) leaves it closing for good. What a reconnect asks for is refused
    until come_online().
    """
    person.context.route(RECONNECTING, lambda route: route.abort())
    person.page.evaluate("() => window.__sockets.forEach((socket) => socket.close())")
    expect(person.page.locator("#connection-state")).to_have_attribute("data-state", "reconnecting")
    person.context.set_offline(True)


def come_online(person: Person) -> None:
    """The network is back: the page reconnects by itself."""
    person.context.set_offline(False)
    person.context.unroute(RECONNECTING)


def test_a_page_that_was_offline_shows_exactly_what_is_stored_when_it_comes_back(sign_in, chat_server):
    """Offline, a message is deleted and others are sent; back online, the page shows what is stored."""
    slug = new_room(chat_server)
    alice, bob = sign_in("alice"), sign_in("bob")
    alice_page, bob_page = enter(alice, slug), enter(bob, slug)
    for text in ("one", "two", "three"):
        say(bob_page, text)
    expect(alice_page.locator("#messages li.message")).to_have_count(3)

    go_offline(alice)
    delete_quietly(chat_server, slug, "two")
    say(bob_page, "four while you were away")
    say(bob_page, "five while you were away")
    expect(bob_page.locator("#messages li.message")).to_have_count(4)
    come_online(alice)

    expect_connected(alice_page)
    expected = stored_texts(chat_server, slug)
    assert expected == ["one", "three", "four while you were away", "five while you were away"]
    expect(alice_page.locator("#messages li.message .message-text")).to_have_text(expected)
    assert alice.dialogs == []


def test_a_lost_frame_is_fetched_when_the_next_one_shows_the_gap(sign_in, chat_server):
    """A message whose frame never came shows up, in order, once the next one reveals the gap."""
    slug = new_room(chat_server)
    alice, bob = sign_in("alice"), sign_in("bob")
    alice_page, bob_page = enter(alice, slug), enter(bob, slug)
    say(bob_page, "first")
    expect(alice_page.locator("#messages li.message")).to_have_count(1)

    post_quietly(chat_server, slug, "lost on the way")
    say(bob_page, "third")

    expect(alice_page.locator("#messages li.message .message-text")).to_have_text(
        ["first", "lost on the way", "third"]
    )
    assert shown_texts(alice_page) == stored_texts(chat_server, slug)


def test_a_page_too_far_behind_starts_over_and_says_so(sign_in, chat_server):
    """When the log cannot cover the gap (a new epoch), the page shows the latest instead and says why."""
    slug = new_room(chat_server)
    alice, bob = sign_in("alice"), sign_in("bob")
    alice_page, bob_page = enter(alice, slug), enter(bob, slug)
    say(bob_page, "before the restore")
    expect(alice_page.locator("#messages li.message")).to_have_count(1)

    go_offline(alice)
    delete_quietly(chat_server, slug, "before the restore")
    shell(
        chat_server,
        f"from django.core.management import call_command\ncall_command('rooms_new_epoch', {slug!r})",
    )
    say(bob_page, "after the restore")
    come_online(alice)

    expect_connected(alice_page)
    expect(alice_page.locator("#messages li.message .message-text")).to_have_text(["after the restore"])
    expect(alice_page.locator("#log-notice")).to_contain_text("showing the latest messages")


def test_a_page_far_behind_catches_up_a_page_of_events_at_a_time(sign_in, chat_server):
    """130 messages missed: the welcome replays a page (100) and says has_more; the page fetches the rest."""
    slug = new_room(chat_server)
    alice = sign_in("alice")
    alice_page = enter(alice, slug)

    go_offline(alice)
    shell(
        chat_server,
        "from accounts.models import User\nfrom rooms.models import Room\n"
        "from rooms.services import message_create\n"
        f"room, bob = Room.objects.get(slug={slug!r}), User.objects.get(username='bob')\n"
        "for n in range(130):\n"
        "    message_create(room=room, author=bob, text=f'missed {n}')",
    )
    come_online(alice)

    expect_connected(alice_page)
    expected = stored_texts(chat_server, slug)
    assert len(expected) == 130
    expect(alice_page.locator("#messages li.message .message-text")).to_have_text(expected)
    assert alice.dialogs == []


def test_fifteen_messages_typed_fast_are_all_stored_in_order(sign_in, chat_server):
    """Past the rate limit (10 in 10 s) nothing typed is lost: the rest wait, say so, and go out in order."""
    slug = new_room(chat_server)
    alice = sign_in("alice")
    page = enter(alice, slug)
    typed = [f"fast {n}" for n in range(1, 16)]

    for text in typed:
        say(page, text)

    expect(page.locator("#composer-error")).to_contain_text("messages are waiting")
    expect(page.locator("#message-input")).to_have_value("")
    # Each waiting message shows, with its state, until it is stored.
    waiting = page.locator("#pending li[data-state='waiting'] .pending-state")
    expect(waiting.first).to_have_text("Waiting: sending too fast")
    expect(page.locator("#messages li.message .message-text")).to_have_text(typed, timeout=30_000)
    assert stored_texts(chat_server, slug) == typed
    expect(page.locator("#composer-error")).to_have_text("")
    expect(page.locator("#pending")).to_be_hidden()
