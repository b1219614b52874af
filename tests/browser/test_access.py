"""Private rooms and direct messages in a real browser against a real server."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ChatServer
from tests.browser.test_chat import say
from tests.browser.test_conversation import row
from tests.browser.test_delivery import enter, shell

pytestmark = pytest.mark.browser


def private_room(server: ChatServer, *members: str) -> str:
    """A private room of the test's own with these members; its slug."""
    slug = f"private-{uuid.uuid4().hex[:8]}"
    shell(
        server,
        "from accounts.models import User\nfrom rooms.models import Room, RoomMember\n"
        f"room = Room.objects.create(slug={slug!r}, name='Board ' + {slug[-4:]!r}, kind='private')\n"
        f"for name in {list(members)!r}:\n"
        "    RoomMember.objects.create(room=room, user=User.objects.get(username=name))\n",
    )
    return slug


def test_a_private_room_is_invisible_to_a_non_member(sign_in, chat_server):
    """Alice sees the Board on her dashboard and enters it; Bob neither sees it nor can open it."""
    slug = private_room(chat_server, "alice")
    alice, bob = sign_in("alice"), sign_in("bob")

    alice.page.goto("/rooms/")
    expect(alice.page.locator(f'a.room-card[data-room="{slug}"]')).to_contain_text("Private")
    enter(alice, slug)
    bob.page.goto("/rooms/")
    expect(bob.page.locator("a.room-card")).not_to_have_count(0)
    expect(bob.page.locator(f'a.room-card[data-room="{slug}"]')).to_have_count(0)
    response = bob.page.goto(f"/rooms/{slug}/")
    assert response is not None
    assert response.status == 404


def test_a_member_removed_in_the_admin_is_thrown_out_live(sign_in, chat_server):
    """The admin unticks Bob's membership and saves: Bob's open page says he can no longer enter."""
    slug = private_room(chat_server, "alice", "bob")
    bob, admin = sign_in("bob"), sign_in("admin")
    page = enter(bob, slug)

    room_id = shell(
        chat_server, f"from rooms.models import Room\nprint(Room.objects.get(slug={slug!r}).pk)"
    ).strip()
    admin.page.goto(f"/admin/rooms/room/{room_id}/change/")
    expect(admin.page.locator(".field-who_is_in")).to_contain_text("Bob (@bob): member")
    bob_row = admin.page.locator(
        f'#members-group .inline-related:has(input[name$="-user"][value="{bob_id(chat_server)}"])'
    )
    bob_row.locator('input[name$="-DELETE"]').check()
    admin.page.locator('input[name="_save"]').click()
    expect(admin.page.locator(".messagelist")).to_contain_text("was changed successfully")

    expect(page.locator("#connection-state")).to_have_attribute("data-state", "forbidden")
    expect(page.locator("#connection-state")).to_have_text("You can no longer enter this room")
    expect(page.locator("#message-input")).to_be_disabled()


def bob_id(server: ChatServer) -> str:
    return shell(
        server, "from accounts.models import User\nprint(User.objects.get(username='bob').pk)"
    ).strip()


def test_two_people_talk_in_a_direct_conversation(sign_in, chat_server):
    """Alice opens a conversation with @bob on the dashboard; Bob finds it as Alice, 1 unread, and answers."""
    alice, bob = sign_in("alice"), sign_in("bob")
    said = f"just between us {uuid.uuid4().hex[:6]}"

    alice.page.goto("/rooms/")
    alice.page.get_by_label("Message someone").fill("bob")
    alice.page.get_by_role("button", name="Open conversation").click()
    expect(alice.page.locator("h1")).to_have_text("Bob")
    expect(alice.page.locator("#connection-state")).to_have_attribute("data-state", "connected")
    say(alice.page, said)
    expect(row(alice.page, said)).to_have_count(1)

    bob.page.goto("/rooms/")
    direct = bob.page.locator("#direct-list a.room-card").filter(has_text="Alice")
    expect(direct.locator("[data-count='unread'] .count")).to_have_text("1")
    direct.click()
    expect(bob.page.locator("h1")).to_have_text("Alice")
    expect(row(bob.page, said)).to_have_count(1)
    answer = f"sure {uuid.uuid4().hex[:6]}"
    say(bob.page, answer)
    expect(row(alice.page, answer)).to_have_count(1)


def test_a_direct_conversation_opens_from_the_people_list(sign_in, chat_server):
    """In General, Alice presses "Message" beside Bob in the people list and is in their conversation."""
    alice, bob = sign_in("alice"), sign_in("bob")
    page = enter(alice, "general")
    enter(bob, "general")

    page.get_by_role("button", name="Message Bob").click()

    expect(page.locator("h1")).to_have_text("Bob")
    expect(page.locator("#connection-state")).to_have_attribute("data-state", "connected")
    expect(page.locator("#people").get_by_role("button", name="Message Bob")).to_have_count(0)
