"""A real daphne server and a real Chromium for the end-to-end browser tests.

The server runs in its own process on its own SQLite file, so these tests
need no pytest-django database and no in-process state.
"""

from __future__ import annotations

import http.client
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Dialog, Page, expect, sync_playwright

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

    def log(self) -> str:
        """What the server has printed so far, for failure messages."""
        return self.log_path.read_text(errors="replace")


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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(
            f"manage.py {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )
    return result.stdout


def _healthz_status(port: int) -> int | None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status
    except OSError:
        return None
    finally:
        connection.close()


def _wait_until_healthy(process: subprocess.Popen, port: int, log_path: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"daphne exited with {process.returncode}:\n{log_path.read_text(errors='replace')}")
        if _healthz_status(port) == 200:
            return
        time.sleep(0.2)
    pytest.fail(
        f"daphne did not answer GET /healthz with 200 within {SERVER_START_TIMEOUT_S:.0f}s:\n"
        f"{log_path.read_text(errors='replace')}"
    )


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(autouse=True)
def fresh_process_state():
    """Skip the suite's in-process reset: the server is another process, and its
    async_to_sync cannot run beside Playwright's event loop in this thread."""


@pytest.fixture(scope="session")
def chat_server(tmp_path_factory) -> Iterator[ChatServer]:
    """The embedded default served by daphne on a free port, with fresh demo accounts."""
    workdir = tmp_path_factory.mktemp("chat_server")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "chatsite.settings",
        "DJANGO_DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{workdir / 'db.sqlite3'}",
    }
    _manage(env, "migrate", "--no-input")
    demo_output = _manage(env, "ensure_demo_users")
    passwords = {m["username"]: m["password"] for m in PASSWORD_LINE.finditer(demo_output)}
    if not {"alice", "bob"} <= passwords.keys():
        pytest.fail(f"ensure_demo_users printed no passwords for alice and bob:\n{demo_output}")

    port = _free_port()
    log_path = workdir / "daphne.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "chatsite.asgi:application"],
            cwd=BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_healthy(process, port, log_path)
        yield ChatServer(url=f"http://127.0.0.1:{port}", passwords=passwords, log_path=log_path)
    finally:
        _stop(process)


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


@pytest.fixture
def sign_in(browser: Browser, chat_server: ChatServer) -> Iterator[Callable[[str], Person]]:
    """Sign a demo user in through the login page, in a browser context of their own."""
    contexts: list[BrowserContext] = []

    def _sign_in(username: str) -> Person:
        context = browser.new_context(base_url=chat_server.url)
        contexts.append(context)
        person = Person(username=username, context=context, page=context.new_page())
        page = person.watch(person.page)
        page.goto("/accounts/login/")
        page.locator("#id_username").fill(username)
        page.locator("#id_password").fill(chat_server.passwords[username])
        page.get_by_role("button", name="Sign in").click()
        expect(page).to_have_url(f"{chat_server.url}/rooms/")
        return person

    yield _sign_in
    for context in contexts:
        context.close()
