"""Every page, checked by axe-core (axe-playwright-python, which bundles it) against WCAG 2.2 A and AA.

Any violation fails: the list of them is the assertion message. The admin
pages are the ones we customised (rooms with their members, sessions,
messages, users); where Django's own admin CSS fell short, static/css/admin.css
fixes it.
"""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.contrib.auth.models import AnonymousUser
from django.template.loader import render_to_string
from django.test import RequestFactory
from playwright.sync_api import Page, expect

from tests.browser.conftest import ChatServer, Person
from tests.browser.test_access import private_room
from tests.browser.test_delivery import enter, go_offline, new_room, shell

pytestmark = pytest.mark.browser

WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
AXE = Axe()


def violations(page: Page) -> list[str]:
    """What axe finds wrong on the page as it stands, one line per rule: id, impact, where, why."""
    results = AXE.run(page, options={"runOnly": {"type": "tag", "values": WCAG_22_AA}})
    return [
        f"{v['id']} ({v['impact']}) at {[node['target'] for node in v['nodes'][:3]]}: {v['help']}"
        for v in results.response["violations"]
    ]


def assert_accessible(page: Page) -> None:
    found = violations(page)
    assert found == [], "\n".join(found)


def connected(page: Page) -> None:
    expect(page.locator("#connection-state")).to_have_attribute("data-state", "connected")


THEMES = ["light", "dark"]


@pytest.mark.parametrize("theme", THEMES)
def test_the_pages_before_signing_in_are_accessible(browser, chat_server: ChatServer, theme: str):
    """The landing page, the sign-in page, and the sign-in page saying the password was wrong."""
    context = browser.new_context(base_url=chat_server.url, color_scheme=theme)
    try:
        page = context.new_page()
        page.goto("/")
        assert_accessible(page)
        page.goto("/accounts/login/")
        assert_accessible(page)
        page.locator("#id_username").fill("alice")
        page.locator("#id_password").fill("not the password")
        page.get_by_role("button", name="Sign in").click()
        expect(page.locator(".errorlist, .form-error, [role=alert]").first).to_be_visible()
        assert_accessible(page)
    finally:
        context.close()


@pytest.mark.parametrize("theme", THEMES)
def test_the_dashboard_and_every_kind_of_room_are_accessible(sign_in, chat_server: ChatServer, theme: str):
    """Dashboard; a public room with long history, an empty one, a private one, a direct one; disconnected."""
    alice: Person = sign_in("alice")
    page = alice.page
    page.emulate_media(color_scheme=theme)
    shell(
        chat_server,
        "from accounts.models import User\nfrom rooms.models import Room\n"
        "from rooms.services import message_create\n"
        "alice = User.objects.get(username='alice')\nroom = Room.objects.get(slug='general')\n"
        "for n in range(60):\n    message_create(room=room, author=alice, text=f'message {n} with @bob')\n",
    )
    private = private_room(chat_server, "alice")
    page.goto("/rooms/")
    page.get_by_label("Message someone").fill("bob")
    page.get_by_role("button", name="Open conversation").click()
    connected(page)
    assert_accessible(page)  # direct

    page.goto("/rooms/")
    expect(page.locator("#dashboard-state")).to_have_text("")
    assert_accessible(page)
    for slug in ("general", new_room(chat_server), private):
        enter(alice, slug)
        assert_accessible(page)
    go_offline(alice)
    assert_accessible(page)


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("template", ["400.html", "403.html", "404.html", "500.html"])
def test_the_error_pages_are_accessible(browser, chat_server: ChatServer, template: str, theme: str):
    """Each error page as the site renders it, with the site's own stylesheet."""
    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    html = render_to_string(
        template, {"status": 404, "heading": "No such page", "explanation": "Gone."}, request
    )
    context = browser.new_context(base_url=chat_server.url, color_scheme=theme)
    try:
        page = context.new_page()
        page.goto("/healthz")  # the site's origin, so the stylesheet loads
        page.set_content(html, wait_until="load")
        assert_accessible(page)
    finally:
        context.close()


@pytest.mark.parametrize("theme", THEMES)
def test_the_admin_pages_we_customised_are_accessible(sign_in, chat_server: ChatServer, theme: str):
    """Rooms (a private one's change page with members and who may enter), messages, sessions, users.

    The admin follows the system's theme as the site does (Django's admin has its own dark palette).
    """
    slug = private_room(chat_server, "alice", "bob")
    room_id = shell(
        chat_server, f"from rooms.models import Room\nprint(Room.objects.get(slug={slug!r}).pk)"
    ).strip()
    page = sign_in("admin").page
    page.emulate_media(color_scheme=theme)
    for path in (
        "/admin/",
        "/admin/rooms/room/",
        f"/admin/rooms/room/{room_id}/change/",
        "/admin/rooms/message/",
        "/admin/accounts/sitesession/",
        "/admin/accounts/user/",
    ):
        page.goto(path)
        assert_accessible(page)


def test_the_theme_follows_the_system_until_chosen_and_the_choice_is_remembered(browser, chat_server):
    """A dark system gets the dark theme; choosing light in the header sticks across pages and reloads."""
    context = browser.new_context(base_url=chat_server.url, color_scheme="dark")
    try:
        page = context.new_page()
        page.goto("/")
        background = "() => getComputedStyle(document.body).backgroundColor"
        dark = page.evaluate(background)
        toggle = page.get_by_role("button", name="Theme: system")

        toggle.click()  # system -> dark (the same here)
        page.get_by_role("button", name="Theme: dark").click()  # -> light

        expect(page.locator("html")).to_have_attribute("data-theme", "light")
        assert page.evaluate(background) != dark
        page.goto("/accounts/login/")
        expect(page.get_by_role("button", name="Theme: light")).to_be_visible()
        assert page.evaluate(background) != dark
        assert_accessible(page)
    finally:
        context.close()
