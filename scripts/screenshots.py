"""The README's screenshots, taken from the running site, so they stay true: `make screenshots`.

Starts the embedded default (daphne, SQLite) in a temporary folder, seeds a
short conversation through the real services, signs Alice and Bob in with
Chromium and photographs Alice's dashboard and General, light and dark, into
docs/screenshots/. Nothing is drawn by hand.
"""

from __future__ import annotations

import argparse
import re
import tempfile
from pathlib import Path

from playwright.sync_api import Browser, expect, sync_playwright

from tests.servers import manage, server_env, start_server

BASE_DIR = Path(__file__).resolve().parent.parent
OUT_DIR = BASE_DIR / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
VIEWPORT = {"width": 1200, "height": 760}
PASSWORD_LINE = re.compile(r"^\s+(?P<username>\S+)\s+password:\s+(?P<password>\S+)\s*$", re.MULTILINE)
CONVERSATION = """
from accounts.models import User
from rooms.models import Room
from rooms.services import message_create
alice, bob = User.objects.get(username="alice"), User.objects.get(username="bob")
general = Room.objects.get(slug="general")
said = [
    (bob, "Morning! Is the release still on for today?"),
    (alice, "It is: the last review is done, CI is green on both passes."),
    (bob, "Great. @alice can you post the notes in Music too? Half the team lives there."),
    (alice, "Will do after lunch. https://example.com/release-notes"),
]
for author, text in said:
    message_create(room=general, author=author, text=text)
message_create(room=Room.objects.get(slug="sports"), author=bob, text="Five-a-side at six, anyone?")
"""


def take(out_dir: Path = OUT_DIR, chromium: str = CHROMIUM) -> list[Path]:
    """Photograph the dashboard and a room, light and dark; the files written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        env = server_env(DJANGO_DEBUG="1", DATABASE_URL=f"sqlite:///{work / 'db.sqlite3'}")
        manage(env, "migrate", "--no-input")
        printed = manage(env, "ensure_demo_users", "--passwords-file", str(work / "demo-passwords.json"))
        passwords = {m["username"]: m["password"] for m in PASSWORD_LINE.finditer(printed)}
        manage(env, "shell", "-v", "0", "-c", CONVERSATION)
        server = start_server(env, work)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
                try:
                    return _photograph(browser, server.url, passwords, out_dir)
                finally:
                    browser.close()
        finally:
            server.stop()


def _photograph(browser: Browser, url: str, passwords: dict[str, str], out_dir: Path) -> list[Path]:
    bob = _signed_in(browser, url, "bob", passwords["bob"], "light")
    bob.goto("/rooms/general/")  # someone else online
    pages = {
        theme: _signed_in(browser, url, "alice", passwords["alice"], theme) for theme in ("light", "dark")
    }
    written = []
    # Both dashboards first: entering General reads it, and its counts would go.
    for theme, page in pages.items():
        with page.expect_websocket() as opened:
            page.goto("/rooms/")
        opened.value.wait_for_event("framereceived")  # the dashboard's welcome: live counts
        expect(page.locator("#dashboard-state")).to_have_text("")
        written.append(_shot(page, out_dir / f"dashboard-{theme}.png"))
    for theme, page in pages.items():
        page.goto("/rooms/general/")
        expect(page.locator("#connection-state")).to_have_attribute("data-state", "connected")
        page.locator("#message-input").fill("On my way ")
        written.append(_shot(page, out_dir / f"room-{theme}.png"))
        page.context.close()
    bob.context.close()
    return written


def _signed_in(browser: Browser, url: str, username: str, password: str, theme: str):
    context = browser.new_context(base_url=url, viewport=VIEWPORT, color_scheme=theme)
    page = context.new_page()
    page.goto("/accounts/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{url}/rooms/")
    return page


def _shot(page, path: Path) -> Path:
    page.screenshot(path=str(path), animations="disabled", caret="hide")
    return path


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="where the PNGs go")
    parser.add_argument("--chromium", default=CHROMIUM)
    arguments = parser.parse_args()
    for written in take(arguments.out, arguments.chromium):
        print(written)
