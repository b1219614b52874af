"""A real daphne server and a real Chromium for the end-to-end browser tests.

The server runs in its own process on its own SQLite file, so these tests
need no pytest-django database and no in-process state.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Dialog, Page, expect, sync_playwright

from tests.servers import manage, server_env, start_server

BASE_DIR = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# No sandbox: CI runs as root. The rest keeps Chromium off the (absent) network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERVER_START_TIMEOUT_S = 30.0
EXPECT_TIMEOUT_MS = 10_000
PASSWORD_LINE = re.compile(r"^\s+(?P<username>\S+)\s+password:\s+(?P<password>\S+)\s*$", re.MULTILINE)


@dataclass
class ChatServer:
    url: str
    passwords: dict[str, str]
    log_path: Path
    env: dict[str, str] = field(default_factory=dict, repr=False)  # the server's environment, for manage.py

    def log(self) -> str:
        """What the server has printed so far, for failure messages."""
        return self.log_path.read_text(errors="replace")

    def add_users(self, display_names: dict[str, str]) -> None:
        """Create local accounts {username: display name} in the server's database; sign_in knows them."""
        passwords = {username: secrets.token_urlsafe(12) for username in display_names}
        code = "from accounts.models import User\n" + "".join(
            f"User.objects.create_user(username={username!r}, password={passwords[username]!r}, "
            f"display_name={name!r})\n"
            for username, name in display_names.items()
        )
        manage(self.env, "shell", "-v", "0", "-c", code)
        self.passwords.update(passwords)


@dataclass
class Person:
    """One person at their own browser: a separate context (cookies) and a page."""

    username: str
    context: BrowserContext
    page: Page
    dialogs: list[str] = field(default_factory=list)

    def watch(self, page: Page) -> Page:
        """Record (and dismiss) any dialog the page opens; a chat must never open one."""

        def on_dialog(dialog: Dialog) -> None:
            self.dialogs.append(f"{dialog.type}: {dialog.message}")
            dialog.dismiss()

        page.on("dialog", on_dialog)
        return page

    def reopen(self) -> Page:
        """Open a fresh page in the same context (same session), like a new tab."""
        self.page = self.watch(self.context.new_page())
        return self.page


@pytest.fixture(autouse=True)
def fresh_process_state():
    """Skip the suite's in-process reset: the server is another process, and its
    async_to_sync cannot run beside Playwright's event loop in this thread."""


@pytest.fixture(scope="session")
def chat_server(tmp_path_factory) -> Iterator[ChatServer]:
    """The embedded default served by daphne on a free port, with fresh demo accounts."""
    workdir = tmp_path_factory.mktemp("chat_server")
    env = server_env(DJANGO_DEBUG="1", DATABASE_URL=f"sqlite:///{workdir / 'db.sqlite3'}")
    manage(env, "migrate", "--no-input")
    demo_output = manage(env, "ensure_demo_users", "--passwords-file", str(workdir / "demo-passwords.json"))
    passwords = {m["username"]: m["password"] for m in PASSWORD_LINE.finditer(demo_output)}
    if not {"alice", "bob"} <= passwords.keys():
        pytest.fail(f"ensure_demo_users printed no passwords for alice and bob:\n{demo_output}")

    server = start_server(env, workdir)
    try:
        yield ChatServer(url=server.url, passwords=passwords, log_path=server.log_path, env=env)
    finally:
        server.stop()


@contextmanager
def chat_server_through(provider, workdir: Path, *, name: str, port: int | None = None, **variables: str):
    """daphne signing in through `provider` (its issuer, client and secret; its button says `name`)."""
    env = server_env(
        DJANGO_DEBUG="1",
        DATABASE_URL=f"sqlite:///{workdir / 'db.sqlite3'}",
        OIDC_ISSUER=provider.issuer,
        OIDC_CLIENT_ID=provider.client_id,
        OIDC_CLIENT_SECRET=provider.client_secret,
        OIDC_PROVIDER_NAME=name,
        **variables,
    )
    manage(env, "migrate", "--no-input")
    server = start_server(env, workdir, port=port)
    try:
        yield ChatServer(url=server.url, passwords={}, log_path=server.log_path, env=env)
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Chromium; a missing browser fails the run, it never skips it."""
    if not os.path.exists(CHROMIUM):
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: install it (apt-get install chromium) "
            "or point CHROMIUM_PATH at a Chromium binary. Browser tests never skip."
        )
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


def sign_in_at(browser: Browser, server: ChatServer, username: str, **options) -> tuple[BrowserContext, Page]:
    """A browser context of its own (`options`: viewport, touch…) signed in through the login page."""
    context = browser.new_context(base_url=server.url, **options)
    page = context.new_page()
    page.goto("/accounts/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(server.passwords[username])
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{server.url}/rooms/")
    return context, page


@pytest.fixture
def sign_in(browser: Browser, chat_server: ChatServer) -> Iterator[Callable[[str], Person]]:
    """Sign a demo user in through the login page, in a browser context of their own."""
    contexts: list[BrowserContext] = []

    def _sign_in(username: str) -> Person:
        context, page = sign_in_at(browser, chat_server, username)
        contexts.append(context)
        person = Person(username=username, context=context, page=page)
        person.watch(page)
        return person

    yield _sign_in
    for context in contexts:
        context.close()
