"""A certified OpenID provider for tests: panva's oidc-provider under Node, on 127.0.0.1.

``tests/oidc_certified/provider.mjs`` configures it (one confidential client,
client_secret_basic, code flow with PKCE S256, RS256 ID tokens, back-channel
and RP-initiated logout, a one-field sign-in page, consent implied for our
client); this module starts it, feeds it accounts, and drives a sign-in the
way a browser would: the Django test ``Client`` for the site's side, a
``requests.Session`` per login for the provider's side (its cookies are that
person's provider session, kept for later prompt=none re-checks and logouts).

Typical use::

    with CertifiedProvider(redirect_uris=["http://testserver/oidc/callback/"]) as provider:
        ...  # point OIDC_ISSUER, OIDC_RP_CLIENT_ID, OIDC_RP_CLIENT_SECRET at it
        provider.set_account("alice", groups=["finance"])
        response = provider.sign_in(client, "alice")  # the site's answer to the callback
        provider.end_session("alice")                  # the provider session ends
        provider.recheck(client)                       # prompt=none: login_required

Accounts (``set_account``) are written to a JSON file the provider re-reads at
every lookup, so a change shows at the next sign-in or re-check.

Ending a provider session (``end_session``) is oidc-provider's standard
RP-initiated logout, as a person would confirm it: GET ``/session/end`` with the
provider cookies, then POST the form it renders (its hidden ``xsrf``, plus
``logout=yes``) to ``/session/end/confirm``. That ends the session and, for a
client registered with a ``backchannel_logout_uri``, first POSTs it a
``logout_token``. By default the client's ``backchannel_logout_uri`` is a small
recorder of ours on 127.0.0.1 (the provider cannot reach the test client's
``testserver``): its tokens land in :attr:`CertifiedProvider.logout_tokens`, and
``deliver_logout_tokens`` posts them to the site's back-channel endpoint. With
a ``backchannel_logout_uri`` registered, ID tokens carry ``sid``.

Nothing here skips: without Node or the npm packages (``npm ci --prefix
tests/oidc_certified``; ``make test`` runs it), starting fails with a message.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.parse
import weakref
from collections.abc import Iterable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests
from django.test import Client

HERE = Path(__file__).resolve().parent
PACKAGE_DIR = HERE / "oidc_certified"
SCRIPT = PACKAGE_DIR / "provider.mjs"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 5.0
HTTP_TIMEOUT_S = 5.0
MAX_REDIRECTS = 10
#: ``backchannel_logout_uri`` value that registers the built-in recorder.
RECORD_BACKCHANNEL = "record"
BACKCHANNEL_LOGOUT_PATH = "/oidc/backchannel-logout/"

DEFAULT_ACCOUNTS: dict[str, dict[str, Any]] = {
    "alice": {
        "sub": "alice-sub-1",
        "name": "Alice Liddell",
        "preferred_username": "alice",
        "email": "alice@example.test",
        "email_verified": True,
        "groups": [],
    },
    "bob": {
        "sub": "bob-sub-2",
        "name": "Bob Builder",
        "preferred_username": "bob",
        "email": "bob@example.test",
        "email_verified": True,
        "groups": [],
    },
}

_LISTENING = re.compile(r"^listening on (http://127\.0\.0\.1:(\d+))$")
_FORM_ACTION = re.compile(r'<form[^>]*\bmethod="post"[^>]*\baction="([^"]+)"', re.IGNORECASE)
_XSRF = re.compile(r'name="xsrf" value="([^"]+)"')


class ProviderNotInstalled(RuntimeError):
    """Node.js or the npm packages of tests/oidc_certified are missing."""


def _installed_check() -> str:
    """The node executable; raises ProviderNotInstalled with what to do when something is missing."""
    node = shutil.which("node")
    if node is None:
        raise ProviderNotInstalled(
            "Node.js is not installed: the certified OpenID provider tests need `node` on PATH "
            "(.ci/run installs nodejs and npm)."
        )
    pinned = json.loads((PACKAGE_DIR / "package.json").read_text())["dependencies"]["oidc-provider"]
    manifest = PACKAGE_DIR / "node_modules" / "oidc-provider" / "package.json"
    installed = json.loads(manifest.read_text())["version"] if manifest.exists() else None
    if installed != pinned:
        raise ProviderNotInstalled(
            f"oidc-provider {pinned} is not installed in {PACKAGE_DIR} (found {installed}): "
            "run `npm ci --prefix tests/oidc_certified` (make test does)."
        )
    return node


def _redirect_target(response: requests.Response) -> str | None:
    if response.is_redirect:
        return urllib.parse.urljoin(response.url, response.headers["Location"])
    return None


class _BackchannelRecorder(ThreadingHTTPServer):
    """Answers the provider's back-channel logout POSTs with 200 and keeps their logout_token."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _RecorderHandler)
        self.tokens: list[str] = []
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self.serve_forever, name="backchannel-recorder", daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/backchannel-logout"

    def close(self) -> None:
        self.shutdown()
        self.server_close()
        self.thread.join(timeout=STOP_TIMEOUT_S)


class _RecorderHandler(BaseHTTPRequestHandler):
    server: _BackchannelRecorder

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        form = urllib.parse.parse_qs(self.rfile.read(length).decode("utf-8"))
        tokens = form.get("logout_token", [])
        with self.server.lock:
            self.server.tokens.extend(tokens)
        status = HTTPStatus.OK if tokens else HTTPStatus.BAD_REQUEST
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()


class CertifiedProvider:
    """oidc-provider on ``http://127.0.0.1:<free port>``, run by Node for as long as it is started.

    Not named ``Test...`` so pytest does not try to collect it.
    """

    client_id = "lets-talk-certified"

    def __init__(
        self,
        *,
        redirect_uris: Iterable[str],
        post_logout_redirect_uris: Iterable[str] = (),
        backchannel_logout_uri: str | None = RECORD_BACKCHANNEL,
    ) -> None:
        self.redirect_uris = list(redirect_uris)
        self.post_logout_redirect_uris = list(post_logout_redirect_uris)
        self.backchannel_logout_uri = backchannel_logout_uri
        # Characters that must be form-encoded for client_secret_basic (RFC 6749 §2.3.1).
        self.client_secret = f"s3cr%t+/: {secrets.token_urlsafe(32)}"
        self.accounts: dict[str, dict[str, Any]] = {}
        #: Provider-side browsers, one per login: their cookies are that person's provider session.
        self.browsers: dict[str, requests.Session] = {}
        #: The login each Django test client last signed in as.
        self._logins: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()
        self._issuer: str | None = None
        self._process: subprocess.Popen[str] | None = None
        self._recorder: _BackchannelRecorder | None = None
        self._tempdir: tempfile.TemporaryDirectory[str] | None = None
        self._readers: list[threading.Thread] = []
        self._lines_lock = threading.Lock()
        self._listening = threading.Event()
        #: Every line the provider printed, stdout and stderr, in order.
        self.output: list[str] = []
        self._stderr: list[str] = []
        self._errors_seen = 0

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> CertifiedProvider:
        """Start Node with the provider; return once its discovery document answers."""
        if self._process is not None:
            raise RuntimeError("provider already started")
        node = _installed_check()
        self._tempdir = tempfile.TemporaryDirectory(prefix="certified-provider-")
        self.reset_accounts()
        backchannel = self.backchannel_logout_uri
        if backchannel == RECORD_BACKCHANNEL:
            self._recorder = _BackchannelRecorder()
            backchannel = self._recorder.url
        env = {
            **os.environ,
            "PORT": "0",
            "CLIENT_ID": self.client_id,
            "CLIENT_SECRET": self.client_secret,
            "REDIRECT_URIS": ",".join(self.redirect_uris),
            "POST_LOGOUT_REDIRECT_URIS": ",".join(self.post_logout_redirect_uris),
            "BACKCHANNEL_LOGOUT_URI": backchannel or "",
            "ACCOUNTS_FILE": str(self.accounts_file),
            "EXIT_WITH_STDIN": "1",  # no stray Node if this process dies without stopping it
        }
        env.pop("NODE_OPTIONS", None)
        self._process = subprocess.Popen(
            [node, str(SCRIPT)],
            cwd=PACKAGE_DIR,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        self._readers = [
            threading.Thread(target=self._read, args=(self._process.stdout, False), daemon=True),
            threading.Thread(target=self._read, args=(self._process.stderr, True), daemon=True),
        ]
        for reader in self._readers:
            reader.start()
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _read(self, stream, is_stderr: bool) -> None:
        for raw in stream:
            line = raw.rstrip("\n")
            with self._lines_lock:
                self.output.append(line)
                if is_stderr:
                    self._stderr.append(line)
            match = _LISTENING.match(line)
            if match and not is_stderr:
                self._issuer = match.group(1)
                self._listening.set()

    def _wait_until_ready(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self._listening.wait(0.05):
            if self._process.poll() is not None or time.monotonic() > deadline:
                self._fail_to_start("did not print its address")
        while True:
            with contextlib.suppress(requests.RequestException):
                if requests.get(self.discovery_url, timeout=1).status_code == HTTPStatus.OK:
                    return
            if self._process.poll() is not None or time.monotonic() > deadline:
                self._fail_to_start("did not answer discovery")
            time.sleep(0.05)

    def _fail_to_start(self, why: str) -> None:
        assert self._process is not None
        code = self._process.poll()
        for reader in self._readers:
            reader.join(timeout=1 if code is not None else 0)
        with self._lines_lock:
            output = "\n".join(self.output)
        raise RuntimeError(f"the certified provider {why} (exit code {code}); its output:\n{output}")

    def stop(self) -> None:
        """Terminate Node (kill it if it lingers) and the recorder. Safe to call twice."""
        process, self._process = self._process, None
        if process is not None:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=STOP_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=STOP_TIMEOUT_S)
            for reader in self._readers:
                reader.join(timeout=STOP_TIMEOUT_S)
            for stream in (process.stdin, process.stdout, process.stderr):
                if stream is not None:
                    stream.close()
        self._readers = []
        self._listening.clear()
        if self._recorder is not None:
            self._recorder.close()
            self._recorder = None
        self.forget_browsers()
        if self._tempdir is not None:
            self._tempdir.cleanup()
            self._tempdir = None

    def __enter__(self) -> CertifiedProvider:
        if self._process is None:
            self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- where it is -------------------------------------------------------

    @property
    def issuer(self) -> str:
        """``http://127.0.0.1:<port>``, no trailing slash (only while started)."""
        if self._process is None or self._issuer is None:
            raise RuntimeError("provider not started")
        return self._issuer

    def url(self, path: str) -> str:
        """Absolute URL of ``path`` on the provider."""
        return self.issuer + path

    @property
    def discovery_url(self) -> str:
        return self.url("/.well-known/openid-configuration")

    @property
    def errors(self) -> list[str]:
        """Errors the provider reported on stderr since the last :meth:`reset` (lines "error ...")."""
        with self._lines_lock:
            return [line for line in self._stderr[self._errors_seen :] if line.startswith("error ")]

    @property
    def logout_tokens(self) -> list[str]:
        """Back-channel logout tokens the recorder received and nobody delivered yet."""
        if self._recorder is None:
            return []
        with self._recorder.lock:
            return list(self._recorder.tokens)

    # -- state -------------------------------------------------------------

    @property
    def accounts_file(self) -> Path:
        if self._tempdir is None:
            raise RuntimeError("provider not started")
        return Path(self._tempdir.name) / "accounts.json"

    def _write_accounts(self) -> None:
        scratch = self.accounts_file.with_suffix(".tmp")
        scratch.write_text(json.dumps(self.accounts, indent=2))
        scratch.replace(self.accounts_file)  # atomic: the provider never reads half a file

    def reset_accounts(self) -> None:
        """Back to alice and bob (:data:`DEFAULT_ACCOUNTS`, in no groups)."""
        self.accounts = json.loads(json.dumps(DEFAULT_ACCOUNTS))
        self._write_accounts()

    def set_account(self, login: str, **claims: Any) -> dict[str, Any]:
        """Create or change the account signed in with ``login``; a claim of ``None`` is removed.

        A new account gets a ``sub`` and the standard claims made from ``login``. Takes effect
        at the account's next sign-in or re-check.
        """
        account = self.accounts.get(login) or {
            "sub": f"{login}-sub-{secrets.token_hex(4)}",
            "name": login.title(),
            "preferred_username": login,
            "email": f"{login}@example.test",
            "email_verified": True,
            "groups": [],
        }
        account = {**account, **claims}
        account = {name: value for name, value in account.items() if value is not None}
        if not account.get("sub"):
            raise ValueError("an account needs a sub")
        self.accounts[login] = account
        self._write_accounts()
        return account

    def reset(self) -> None:
        """Default accounts, no provider sessions, no recorded logout tokens, errors seen so far ignored."""
        self.reset_accounts()
        self.forget_browsers()
        if self._recorder is not None:
            with self._recorder.lock:
                self._recorder.tokens.clear()
        with self._lines_lock:
            self._errors_seen = len(self._stderr)

    def forget_browsers(self) -> None:
        """Drop every provider-side browser (its cookies: the provider sessions stay, unreachable)."""
        for browser in self.browsers.values():
            browser.close()
        self.browsers.clear()
        self._logins = weakref.WeakKeyDictionary()

    def browser(self, login: str) -> requests.Session:
        """The provider-side browser of ``login``; its cookies hold their provider session."""
        if login not in self.browsers:
            self.browsers[login] = requests.Session()
        return self.browsers[login]

    def _browser_of(self, who: str | requests.Session | Any) -> requests.Session:
        if isinstance(who, requests.Session):
            return who
        if isinstance(who, str):
            return self.browser(who)
        if who in self._logins:  # a Django test client
            return self.browser(self._logins[who])
        raise LookupError(f"{who!r} was never signed in through this provider")

    # -- flows -------------------------------------------------------------

    def _is_callback(self, url: str) -> bool:
        bare = urllib.parse.urlunsplit(urllib.parse.urlsplit(url)._replace(query="", fragment=""))
        return bare in self.redirect_uris

    def _to_provider(self, response, what: str) -> str:
        """The provider URL a site response redirects to (a 302 to the authorization endpoint)."""
        location = response.get("Location", "") if response.status_code == HTTPStatus.FOUND else ""
        if not location.startswith(self.issuer + "/"):
            body = response.content.decode(errors="replace")[:500]
            raise AssertionError(
                f"{what}: expected a redirect to {self.issuer}, got {response.status_code} "
                f"{location!r}\n{body}"
            )
        return location

    def _through_provider(self, browser: requests.Session, url: str, login: str | None) -> str:
        """Follow the provider's redirects (signing in as ``login`` if asked); the callback URL reached."""
        response = browser.get(url, allow_redirects=False, timeout=HTTP_TIMEOUT_S)
        for _ in range(MAX_REDIRECTS):
            target = _redirect_target(response)
            if target is not None:
                if self._is_callback(target):
                    return target
                response = browser.get(target, allow_redirects=False, timeout=HTTP_TIMEOUT_S)
                continue
            action = _FORM_ACTION.search(response.text) if response.status_code == HTTPStatus.OK else None
            if action is None or "/interaction/" not in response.url:
                raise AssertionError(
                    f"the provider answered {response.status_code} at {response.url}:\n{response.text[:1000]}"
                )
            if login is None:
                raise AssertionError(f"the provider asked for a sign-in at {response.url}, none was expected")
            response = browser.post(
                urllib.parse.urljoin(response.url, action.group(1)),
                data={"login": login},
                allow_redirects=False,
                timeout=HTTP_TIMEOUT_S,
            )
            if response.status_code != HTTPStatus.SEE_OTHER:
                raise AssertionError(
                    f"the provider refused login {login!r}: {response.status_code}\n{response.text[:1000]}"
                )
            login = None  # one sign-in per flow
        raise AssertionError(f"more than {MAX_REDIRECTS} redirects at the provider, last {response.url}")

    def _callback(self, client, callback_url: str):
        parts = urllib.parse.urlsplit(callback_url)
        return client.get(f"{parts.path}?{parts.query}")

    def sign_in(self, client, login: str, *, next_url: str | None = None, fresh: bool = False):
        """Sign ``client`` (a Django test Client) in as ``login``; return the site's answer to the callback.

        ``GET /oidc/authenticate/`` on the site, its redirect followed through the provider with
        :meth:`browser` of ``login`` (the sign-in form is posted when the provider asks; with a
        live provider session it does not), then the callback on the site. ``fresh`` starts a new
        provider session first (a new browser).
        """
        if fresh and login in self.browsers:
            self.browsers.pop(login).close()
        response = client.get("/oidc/authenticate/", {"next": next_url} if next_url else {})
        callback = self._through_provider(self.browser(login), self._to_provider(response, "sign-in"), login)
        self._logins[client] = login
        return self._callback(client, callback)

    def recheck(self, client, path: str = "/rooms/", *, login: str | None = None):
        """The silent re-check: GET ``path`` with a session due for one, prompt=none through the provider.

        Use after ``let_the_id_token_expire(client)``. The provider session is that of ``login``
        (default: whom ``client`` last signed in as). Returns the site's answer to the callback:
        back to ``path`` while the provider session lives, to the sign-in page once it ended.
        """
        browser = self._browser_of(login if login is not None else client)
        url = self._to_provider(client.get(path), f"re-check of {path}")
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
        if query.get("prompt") != ["none"]:
            raise AssertionError(f"the re-check is not silent (prompt={query.get('prompt')}): {url}")
        return self._callback(client, self._through_provider(browser, url, None))

    def end_session(self, who: str | requests.Session | Any) -> requests.Response:
        """End the provider session of ``who`` (a login, a browser, or a Django client signed in here).

        RP-initiated logout confirmed at the provider: GET /session/end, POST its form (xsrf,
        logout=yes) to /session/end/confirm. Clients registered with a backchannel_logout_uri get
        their logout_token before this returns. Returns the confirmation's answer (303).
        """
        browser = self._browser_of(who)
        page = browser.get(self.url("/session/end"), allow_redirects=False, timeout=HTTP_TIMEOUT_S)
        xsrf = _XSRF.search(page.text) if page.status_code == HTTPStatus.OK else None
        if xsrf is None:
            raise AssertionError(f"no logout form at the provider ({page.status_code}):\n{page.text[:1000]}")
        confirmed = browser.post(
            self.url("/session/end/confirm"),
            data={"xsrf": xsrf.group(1), "logout": "yes"},
            allow_redirects=False,
            timeout=HTTP_TIMEOUT_S,
        )
        if confirmed.status_code != HTTPStatus.SEE_OTHER:
            raise AssertionError(
                f"the provider did not end the session ({confirmed.status_code}):\n{confirmed.text[:1000]}"
            )
        return confirmed

    def deliver_logout_tokens(self, path: str = BACKCHANNEL_LOGOUT_PATH) -> list:
        """POST each recorded logout token to the site's back-channel endpoint (as the provider would).

        Returns the site's answers, in order; the tokens are delivered once.
        """
        if self._recorder is None:
            raise RuntimeError("no back-channel recorder registered")
        with self._recorder.lock:
            tokens = list(self._recorder.tokens)
            self._recorder.tokens.clear()
        return [Client().post(path, {"logout_token": token}) for token in tokens]
