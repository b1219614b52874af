"""A small, real OpenID Connect provider for tests, served over HTTP on 127.0.0.1.

It implements what the site's sign-in uses — discovery, the authorization
code flow with state, nonce and PKCE (S256), client_secret_basic and
client_secret_post at the token endpoint, RS256 ID tokens with a published
JWKS, userinfo, and RP-initiated logout — and lets a test make it misbehave
on purpose (wrong audience, foreign key, ``alg: none``, slow token endpoint,
broken discovery, ...).

Typical use::

    provider = OpenIDProvider()
    provider.start()
    try:
        ...  # point OIDC_ISSUER at provider.issuer
    finally:
        provider.stop()

or ``with OpenIDProvider() as provider: ...``.

Knobs (plain attributes, set them from the test, ``reset()`` restores them):

* ``id_token_tweaks`` — claims merged into every following ID token; a value
  of ``None`` deletes that claim.
* ``id_token_signing`` — ``"rs256"`` (default), ``"other_key"`` (RS256 with
  :attr:`OpenIDProvider.other_key` but the published ``kid``),
  ``"hs256_client_secret"`` (HS256 keyed with the client secret) or ``"none"``
  (unsigned, ``alg: none``).
* ``userinfo_tweaks`` — merged into userinfo answers, ``None`` deletes.
* ``discovery_overrides`` — merged into the discovery document, ``None``
  deletes the key.
* ``delay_seconds`` — the token endpoint waits this long before answering.
* ``fail_discovery`` — discovery answers 500.

Recorded traffic (lists of dicts): ``authorize_requests``,
``token_requests``, ``userinfo_requests``, ``logout_requests``; handler
crashes land in ``errors`` (a test may assert it stays empty).

Browser note: cookies are not isolated by port, so the provider's
``op_session`` cookie on 127.0.0.1 is also sent to a live server on
127.0.0.1 (and the site's cookies to the provider). The names do not clash.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import hashlib
import hmac
import html
import json
import secrets
import threading
import time
import traceback
import urllib.parse
from http import HTTPStatus
from http.cookies import CookieError, SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

SESSION_COOKIE = "op_session"
ID_TOKEN_SIGNING_MODES = ("rs256", "other_key", "hs256_client_secret", "none")
DEFAULT_USERS: dict[str, dict[str, Any]] = {
    "alice": {
        "sub": "alice-sub-1",
        "name": "Alice Liddell",
        "preferred_username": "alice",
        "email": "alice@example.test",
        "email_verified": True,
    },
    "bob": {
        "sub": "bob-sub-2",
        "name": "Bob Builder",
        "preferred_username": "bob",
        "email": "bob@example.test",
        "email_verified": True,
    },
}
# Claims copied from the user into the ID token (besides sub).
ID_TOKEN_USER_CLAIMS = ("name", "preferred_username", "email")
USERINFO_CLAIMS = ("sub", "name", "preferred_username", "email", "email_verified")
MAX_BODY_BYTES = 64 * 1024


def b64url(data: bytes) -> str:
    """Base64url without padding (RFC 7515 §2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def pkce_challenge(verifier: str) -> str:
    """The S256 code challenge for ``verifier`` (RFC 7636 §4.2)."""
    return b64url(hashlib.sha256(verifier.encode("ascii")).digest())


def _int_to_b64url(value: int) -> str:
    return b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def _merge(base: dict[str, Any], tweaks: dict[str, Any]) -> dict[str, Any]:
    """``base`` updated with ``tweaks``; a tweak of ``None`` removes the key."""
    merged = dict(base)
    for key, value in tweaks.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def _with_query(url: str, params: dict[str, str]) -> str:
    """``url`` with ``params`` appended to whatever query it already has."""
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    query.extend(params.items())
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


@dataclasses.dataclass
class AuthorizationCode:
    """What a code was issued for. Codes are single-use and expire."""

    code: str
    client_id: str
    redirect_uri: str
    username: str
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    scope: str
    auth_time: int
    expires_at: float
    used: bool = False
    access_token: str | None = None


@dataclasses.dataclass
class AccessToken:
    """A bearer token for the userinfo endpoint."""

    token: str
    username: str
    expires_at: float
    revoked: bool = False


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    provider: OpenIDProvider

    def handle_error(self, request, client_address):
        """Stay quiet: clients that hang up (timeouts) are expected in tests."""


class OpenIDProvider:
    """An OpenID Connect provider on ``http://127.0.0.1:<free port>``.

    Not named ``Test...`` so pytest does not try to collect it.
    """

    client_id = "lets-talk-test"
    code_lifetime = 60
    token_lifetime = 300

    def __init__(self) -> None:
        #: RSA key whose public half is published at /jwks under :attr:`kid`.
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        #: A second RSA key that is never published.
        self.other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = secrets.token_urlsafe(12)
        # Characters that must be form-urlencoded for client_secret_basic
        # (RFC 6749 §2.3.1): "%", "+", "/", ":" and a space. Long enough for HS256.
        self.client_secret = f"s3cr%t+/: {secrets.token_urlsafe(32)}"
        self.users: dict[str, dict[str, Any]] = {name: dict(claims) for name, claims in DEFAULT_USERS.items()}
        self.lock = threading.RLock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self.reset()

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> OpenIDProvider:
        """Bind 127.0.0.1 on a free port and serve in a daemon thread."""
        if self._server is not None:
            raise RuntimeError("provider already started")
        self._stopping.clear()
        server = _Server(("127.0.0.1", 0), _Handler)
        server.provider = self
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="oidc-test-provider", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the listening socket. Safe to call twice."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stopping.set()  # wakes a /token request that is being delayed
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> OpenIDProvider:
        if self._server is None:
            self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The port the provider listens on (only while started)."""
        if self._server is None:
            raise RuntimeError("provider not started")
        return self._server.server_address[1]

    @property
    def issuer(self) -> str:
        """``http://127.0.0.1:<port>``, no trailing slash."""
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        """Absolute URL of ``path`` on this provider."""
        return self.issuer + path

    @property
    def discovery_url(self) -> str:
        """Where the discovery document is served."""
        return self.url("/.well-known/openid-configuration")

    # -- state -------------------------------------------------------------

    def reset(self) -> None:
        """Restore knobs and forget traffic, codes, tokens and sessions; keep keys and users."""
        with self.lock:
            self.id_token_tweaks: dict[str, Any] = {}
            self.id_token_signing = "rs256"
            self.userinfo_tweaks: dict[str, Any] = {}
            self.discovery_overrides: dict[str, Any] = {}
            self.delay_seconds = 0.0
            self.fail_discovery = False
            self.authorize_requests: list[dict[str, str]] = []
            self.token_requests: list[dict[str, Any]] = []
            self.userinfo_requests: list[dict[str, Any]] = []
            self.logout_requests: list[dict[str, str]] = []
            self.codes: dict[str, AuthorizationCode] = {}
            self.access_tokens: dict[str, AccessToken] = {}
            self.sessions: dict[str, str] = {}
            self.errors: list[str] = []
            self.log: list[str] = []

    def add_user(self, username: str, **claims: Any) -> dict[str, Any]:
        """Register (or replace) a user; missing standard claims get defaults."""
        user = {
            "sub": f"{username}-sub-{secrets.token_hex(4)}",
            "name": username.title(),
            "preferred_username": username,
            "email": f"{username}@example.test",
            "email_verified": True,
            **claims,
        }
        with self.lock:
            self.users[username] = user
        return user

    def create_session(self, username: str) -> str:
        """Sign ``username`` in at the provider; return the ``op_session`` cookie value."""
        with self.lock:
            if username not in self.users:
                raise KeyError(username)
            session_id = secrets.token_urlsafe(24)
            self.sessions[session_id] = username
            return session_id

    def session_user(self, session_id: str | None) -> str | None:
        """The known user a session cookie value names, if any."""
        with self.lock:
            username = self.sessions.get(session_id or "")
            return username if username in self.users else None

    def issue_code(self, username: str, params: dict[str, str]) -> str:
        """Issue a single-use authorization code for ``username`` and authorize ``params``."""
        now = time.time()
        code = secrets.token_urlsafe(32)
        with self.lock:
            self.codes[code] = AuthorizationCode(
                code=code,
                client_id=params.get("client_id", ""),
                redirect_uri=params.get("redirect_uri", ""),
                username=username,
                nonce=params.get("nonce"),
                code_challenge=params.get("code_challenge"),
                code_challenge_method=params.get("code_challenge_method"),
                scope=params.get("scope", ""),
                auth_time=int(now),
                expires_at=now + self.code_lifetime,
            )
        return code

    # -- documents and tokens ----------------------------------------------

    def public_jwk(self) -> dict[str, str]:
        """The published verification key as a JWK."""
        numbers = self.key.public_key().public_numbers()
        return {
            "kty": "RSA",
            "use": "sig",
            "alg": "RS256",
            "kid": self.kid,
            "n": _int_to_b64url(numbers.n),
            "e": _int_to_b64url(numbers.e),
        }

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        """The JWKS document."""
        return {"keys": [self.public_jwk()]}

    def discovery_document(self) -> dict[str, Any]:
        """The discovery document, with :attr:`discovery_overrides` applied."""
        issuer = self.issuer
        document = {
            "issuer": issuer,
            "authorization_endpoint": f"{issuer}/authorize",
            "token_endpoint": f"{issuer}/token",
            "userinfo_endpoint": f"{issuer}/userinfo",
            "jwks_uri": f"{issuer}/jwks",
            "end_session_endpoint": f"{issuer}/logout",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "profile", "email"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "grant_types_supported": ["authorization_code"],
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", *USERINFO_CLAIMS],
        }
        with self.lock:
            return _merge(document, self.discovery_overrides)

    def id_token_claims(self, code: AuthorizationCode) -> dict[str, Any]:
        """The ID token claims for ``code``, with :attr:`id_token_tweaks` applied."""
        now = int(time.time())
        with self.lock:
            user = self.users[code.username]
            claims: dict[str, Any] = {
                "iss": self.issuer,
                "sub": user["sub"],
                "aud": code.client_id,
                "exp": now + self.token_lifetime,
                "iat": now,
                "auth_time": code.auth_time,
            }
            if code.nonce is not None:
                claims["nonce"] = code.nonce
            claims.update({name: user[name] for name in ID_TOKEN_USER_CLAIMS if name in user})
            return _merge(claims, self.id_token_tweaks)

    def sign_id_token(self, claims: dict[str, Any], signing: str | None = None) -> str:
        """Encode ``claims`` as a JWT the way ``signing`` (default :attr:`id_token_signing`) says."""
        signing = signing or self.id_token_signing
        if signing == "rs256":
            return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": self.kid})
        if signing == "other_key":
            return jwt.encode(claims, self.other_key, algorithm="RS256", headers={"kid": self.kid})
        if signing == "hs256_client_secret":
            return jwt.encode(claims, self.client_secret, algorithm="HS256")
        if signing == "none":
            header = b64url(json.dumps({"alg": "none", "typ": "JWT"}, separators=(",", ":")).encode())
            payload = b64url(json.dumps(claims, separators=(",", ":")).encode())
            return f"{header}.{payload}."
        raise ValueError(f"id_token_signing must be one of {ID_TOKEN_SIGNING_MODES}, not {signing!r}")

    def userinfo(self, username: str) -> dict[str, Any]:
        """Userinfo claims for ``username``, with :attr:`userinfo_tweaks` applied."""
        with self.lock:
            user = self.users[username]
            claims = {name: user[name] for name in USERINFO_CLAIMS if name in user}
            return _merge(claims, self.userinfo_tweaks)

    # -- client authentication ---------------------------------------------

    def authenticate_client(self, headers, form: dict[str, str]) -> tuple[str | None, bool, str | None]:
        """Check client credentials at the token endpoint.

        Returns ``(auth_method, ok, error)``: the method the client presented
        (``"client_secret_basic"``, ``"client_secret_post"`` or ``None``),
        whether its credentials match, and an OAuth error code if they do not.
        For Basic, id and secret are form-urldecoded after base64-decoding
        (RFC 6749 §2.3.1), so a secret sent without encoding does not match.
        """
        authorization = headers.get("Authorization", "")
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "basic":
            if "client_secret" in form:
                return "client_secret_basic", False, "invalid_request"  # more than one method
            try:
                decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
            except ValueError:
                return "client_secret_basic", False, "invalid_client"
            raw_id, sep, raw_secret = decoded.partition(":")
            client_id = urllib.parse.unquote_plus(raw_id)
            secret = urllib.parse.unquote_plus(raw_secret)
            if not sep or ("client_id" in form and form["client_id"] != client_id):
                return "client_secret_basic", False, "invalid_client"
            ok = self._credentials_match(client_id, secret)
            return "client_secret_basic", ok, None if ok else "invalid_client"
        if "client_secret" in form:
            ok = self._credentials_match(form.get("client_id", ""), form["client_secret"])
            return "client_secret_post", ok, None if ok else "invalid_client"
        return None, False, "invalid_client"

    def _credentials_match(self, client_id: str, secret: str) -> bool:
        id_ok = hmac.compare_digest(client_id.encode(), self.client_id.encode())
        secret_ok = hmac.compare_digest(secret.encode(), self.client_secret.encode())
        return id_ok and secret_ok


class _Handler(BaseHTTPRequestHandler):
    """Routes requests to the provider. One instance per request (HTTP/1.0, no keep-alive)."""

    server: _Server
    timeout = 10  # a browser's idle preconnect must not pin a thread forever
    server_version = "OpenIDTestProvider/1.0"

    @property
    def provider(self) -> OpenIDProvider:
        return self.server.provider

    def log_message(self, format: str, *args: Any) -> None:
        with self.provider.lock:
            self.provider.log.append(format % args)

    # -- plumbing ----------------------------------------------------------

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        parts = urllib.parse.urlsplit(self.path)
        routes = {
            ("GET", "/.well-known/openid-configuration"): self._discovery,
            ("GET", "/jwks"): self._jwks,
            ("GET", "/authorize"): self._authorize_get,
            ("POST", "/authorize"): self._authorize_post,
            ("POST", "/token"): self._token,
            ("GET", "/userinfo"): self._userinfo,
            ("POST", "/userinfo"): self._userinfo,
            ("GET", "/logout"): self._logout,
            ("POST", "/logout"): self._logout,
        }
        handler = routes.get((method, parts.path))
        try:
            if handler is None:
                known = {path for _, path in routes}
                status = HTTPStatus.METHOD_NOT_ALLOWED if parts.path in known else HTTPStatus.NOT_FOUND
                self._text(status, status.phrase)
                return
            query = dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
            handler(query)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (e.g. its timeout cut a delayed /token)
        except Exception:
            with self.provider.lock:
                self.provider.errors.append(traceback.format_exc())
            with contextlib.suppress(OSError):
                self._text(HTTPStatus.INTERNAL_SERVER_ERROR, "provider error")

    def _form(self) -> dict[str, str] | None:
        """The urlencoded request body, or None if the body is not a form."""
        content_type = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(min(length, MAX_BODY_BYTES)) if length else b""
        if content_type != "application/x-www-form-urlencoded":
            return None
        return dict(urllib.parse.parse_qsl(body.decode("utf-8"), keep_blank_values=True))

    def _cookie(self, name: str) -> str | None:
        cookie = SimpleCookie()
        try:
            cookie.load(self.headers.get("Cookie", ""))
        except CookieError:
            return None
        morsel = cookie.get(name)
        return morsel.value if morsel else None

    def _send(
        self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(data).encode(), "application/json", headers)

    def _text(self, status: int, text: str, headers: dict[str, str] | None = None) -> None:
        self._send(status, text.encode(), "text/plain; charset=utf-8", headers)

    def _html(self, status: int, text: str, headers: dict[str, str] | None = None) -> None:
        self._send(status, text.encode(), "text/html; charset=utf-8", headers)

    def _redirect(self, location: str, headers: dict[str, str] | None = None) -> None:
        self._send(HTTPStatus.FOUND, b"", "text/plain", {"Location": location, **(headers or {})})

    # -- discovery and keys ------------------------------------------------

    def _discovery(self, query: dict[str, str]) -> None:
        if self.provider.fail_discovery:
            self._text(HTTPStatus.INTERNAL_SERVER_ERROR, "discovery is down (fail_discovery)")
            return
        self._json(HTTPStatus.OK, self.provider.discovery_document())

    def _jwks(self, query: dict[str, str]) -> None:
        self._json(HTTPStatus.OK, self.provider.jwks())

    # -- authorization endpoint --------------------------------------------

    def _authorize_error(self, params: dict[str, str]) -> str | None:
        """Why an authorization request is refused, or None if it is acceptable."""
        if params.get("client_id") != self.provider.client_id:
            return "unknown client_id"
        if params.get("response_type") != "code":
            return "unsupported response_type (only 'code')"
        redirect_uri = params.get("redirect_uri", "")
        if urllib.parse.urlsplit(redirect_uri).scheme not in ("http", "https"):
            return "redirect_uri missing or not http(s)"
        if "openid" not in params.get("scope", "").split():
            return "scope must include 'openid'"
        if params.get("code_challenge") and params.get("code_challenge_method", "plain") != "S256":
            return "unsupported code_challenge_method (only 'S256')"
        return None

    def _to_client(self, params: dict[str, str], result: dict[str, str], headers=None) -> None:
        """Redirect back to the client with ``result`` (+ state)."""
        if "state" in params:
            result = {**result, "state": params["state"]}
        self._redirect(_with_query(params["redirect_uri"], result), headers)

    def _authorize_get(self, query: dict[str, str]) -> None:
        with self.provider.lock:
            self.provider.authorize_requests.append(dict(query))
        error = self._authorize_error(query)
        if error:
            self._text(HTTPStatus.BAD_REQUEST, f"invalid authorization request: {error}")
            return
        prompts = query.get("prompt", "").split()
        username = self.provider.session_user(self._cookie(SESSION_COOKIE))
        if username and "login" not in prompts:
            self._to_client(query, {"code": self.provider.issue_code(username, query)})
        elif "none" in prompts:
            self._to_client(query, {"error": "login_required"})
        else:
            self._html(HTTPStatus.OK, self._sign_in_page(query))

    def _authorize_post(self, query: dict[str, str]) -> None:
        form = self._form()
        if form is None:
            self._text(HTTPStatus.BAD_REQUEST, "expected application/x-www-form-urlencoded")
            return
        username = form.pop("username", "").strip()
        error = self._authorize_error(form)
        if error:
            self._text(HTTPStatus.BAD_REQUEST, f"invalid authorization request: {error}")
            return
        with self.provider.lock:
            known = username in self.provider.users
        if not known:
            self._html(HTTPStatus.OK, self._sign_in_page(form, error=f"No such user: {username!r}"))
            return
        session_id = self.provider.create_session(username)
        cookie = f"{SESSION_COOKIE}={session_id}; Path=/; HttpOnly; SameSite=Lax"
        self._to_client(form, {"code": self.provider.issue_code(username, form)}, {"Set-Cookie": cookie})

    def _sign_in_page(self, params: dict[str, str], error: str | None = None) -> str:
        hidden = "\n".join(
            f'    <input type="hidden" name="{html.escape(name)}" value="{html.escape(value)}">'
            for name, value in params.items()
            if name != "username"
        )
        alert = f'  <p id="op-error" role="alert">{html.escape(error)}</p>\n' if error else ""
        return (
            "<!doctype html>\n"
            '<html lang="en">\n'
            '<head><meta charset="utf-8"><title>Test provider sign-in</title></head>\n'
            "<body>\n"
            "  <h1>Test provider sign-in</h1>\n"
            f"{alert}"
            '  <form method="post" action="/authorize">\n'
            '    <label for="op-username">Username</label>\n'
            '    <input type="text" name="username" id="op-username" autocomplete="off" autofocus>\n'
            f"{hidden}\n"
            '    <button type="submit">Continue</button>\n'
            "  </form>\n"
            "</body>\n"
            "</html>\n"
        )

    # -- token endpoint ----------------------------------------------------

    def _token(self, query: dict[str, str]) -> None:
        provider = self.provider
        form = self._form()
        if provider.delay_seconds > 0:
            provider._stopping.wait(provider.delay_seconds)
        if form is None:
            self._json(HTTPStatus.BAD_REQUEST, {"error": "invalid_request"})
            return
        auth_method, ok, auth_error = provider.authenticate_client(self.headers, form)
        with provider.lock:
            provider.token_requests.append({"auth_method": auth_method, "form": dict(form), "ok": ok})
        if auth_error == "invalid_request":
            self._json(HTTPStatus.BAD_REQUEST, {"error": "invalid_request"})
            return
        if not ok:
            headers = (
                {"WWW-Authenticate": 'Basic realm="token"'} if auth_method == "client_secret_basic" else None
            )
            self._json(HTTPStatus.UNAUTHORIZED, {"error": "invalid_client"}, headers)
            return
        if form.get("grant_type") != "authorization_code":
            self._json(HTTPStatus.BAD_REQUEST, {"error": "unsupported_grant_type"})
            return
        code, grant_error = self._redeem(form)
        if code is None:
            self._json(HTTPStatus.BAD_REQUEST, {"error": "invalid_grant", "error_description": grant_error})
            return
        access_token = secrets.token_urlsafe(32)
        with provider.lock:
            provider.access_tokens[access_token] = AccessToken(
                access_token, code.username, time.time() + provider.token_lifetime
            )
            code.access_token = access_token
        id_token = provider.sign_id_token(provider.id_token_claims(code))
        self._json(
            HTTPStatus.OK,
            {
                "access_token": access_token,
                "token_type": "Bearer",
                "expires_in": provider.token_lifetime,
                "id_token": id_token,
            },
            {"Pragma": "no-cache"},
        )

    def _redeem(self, form: dict[str, str]) -> tuple[AuthorizationCode | None, str]:
        """Use up the code in ``form``; return it, or None and why it is refused."""
        provider = self.provider
        with provider.lock:
            code = provider.codes.get(form.get("code", ""))
            if code is None:
                return None, "unknown code"
            if code.used:
                # A replay: refuse, and revoke what the first redemption got (RFC 6749 §4.1.2).
                revoked = provider.access_tokens.get(code.access_token or "")
                if revoked:
                    revoked.revoked = True
                return None, "code already used"
            code.used = True
            if time.time() > code.expires_at:
                return None, "code expired"
            if code.client_id != provider.client_id:
                return None, "code issued to another client"
            if form.get("redirect_uri") != code.redirect_uri:
                return None, "redirect_uri mismatch"
            if code.code_challenge:
                verifier = form.get("code_verifier")
                if not verifier:
                    return None, "code_verifier required"
                if not hmac.compare_digest(pkce_challenge(verifier), code.code_challenge):
                    return None, "code_verifier does not match code_challenge"
            return code, ""

    # -- userinfo ----------------------------------------------------------

    def _userinfo(self, query: dict[str, str]) -> None:
        provider = self.provider
        if self.command == "POST":
            self._form()  # drain the body
        scheme, _, token = self.headers.get("Authorization", "").partition(" ")
        token = token.strip()
        with provider.lock:
            provider.userinfo_requests.append({"authorization": self.headers.get("Authorization")})
            record = provider.access_tokens.get(token) if scheme.lower() == "bearer" else None
            valid = record is not None and not record.revoked and time.time() < record.expires_at
        if not valid:
            self._json(
                HTTPStatus.UNAUTHORIZED,
                {"error": "invalid_token"},
                {"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
            return
        self._json(HTTPStatus.OK, provider.userinfo(record.username))

    # -- end session -------------------------------------------------------

    def _logout(self, query: dict[str, str]) -> None:
        params = query
        if self.command == "POST":
            params = {**query, **(self._form() or {})}
        wanted = ("id_token_hint", "post_logout_redirect_uri", "state", "client_id")
        provider = self.provider
        session_id = self._cookie(SESSION_COOKIE)
        with provider.lock:
            provider.logout_requests.append({name: params[name] for name in wanted if name in params})
            provider.sessions.pop(session_id or "", None)
        headers = {
            "Set-Cookie": f"{SESSION_COOKIE}=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; "
            "Path=/; HttpOnly; SameSite=Lax"
        }
        target = params.get("post_logout_redirect_uri")
        if target:
            extra = {"state": params["state"]} if "state" in params else {}
            self._redirect(_with_query(target, extra), headers)
        else:
            self._text(HTTPStatus.OK, "Signed out", headers)
