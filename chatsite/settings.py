"""Settings for Let's Talk, read from the environment (and an optional .env).

The embedded default (DJANGO_DEBUG on, nothing else set) runs on SQLite and
the in-memory channel layer. With DJANGO_DEBUG off the site refuses to start
without real secrets.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# Like the original's dotenv: real environment variables win over the file.
# DJANGO_ENV_FILE points elsewhere (tests point it at nothing).
ENV_FILE = Path(env.str("DJANGO_ENV_FILE", default=str(BASE_DIR / ".env")))
if ENV_FILE.is_file():
    environ.Env.read_env(ENV_FILE)

DEBUG = env.bool("DJANGO_DEBUG", default=False)

# Only ever used with DJANGO_DEBUG on; production refuses them below.
_DEV_SECRET_KEY = "django-insecure-dev-only-let-s-talk-do-not-use-in-production"  # noqa: S105
_DEV_JWT_SECRET = "dev-only-chat-jwt-secret-do-not-use-in-production"  # noqa: S105

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default=_DEV_SECRET_KEY if DEBUG else "")
CHAT_JWT_SECRET = env.str("CHAT_JWT_SECRET", default=_DEV_JWT_SECRET if DEBUG else "")


def _refuse_weak_secrets() -> None:
    """Stop a production start whose secrets are missing, default or weak."""
    if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5 or SECRET_KEY.startswith("django-insecure"):
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is missing or weak. Set it to 50+ random characters, e.g. "
            "python -c 'import secrets; print(secrets.token_urlsafe(50))'."
        )
    # 32 random bytes, e.g. token_urlsafe(32), use far more than 8 distinct characters.
    if (
        len(CHAT_JWT_SECRET.encode()) < 32
        or len(set(CHAT_JWT_SECRET)) < 8
        or CHAT_JWT_SECRET == _DEV_JWT_SECRET
    ):
        raise ImproperlyConfigured(
            "CHAT_JWT_SECRET is missing, shorter than 32 bytes or not random. "
            "Set it to 32+ random bytes, e.g. "
            "python -c 'import secrets; print(secrets.token_urlsafe(32))'."
        )
    if CHAT_JWT_SECRET == SECRET_KEY:
        raise ImproperlyConfigured("CHAT_JWT_SECRET must differ from DJANGO_SECRET_KEY.")


if not DEBUG:
    _refuse_weak_secrets()

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
if not DEBUG and "*" in ALLOWED_HOSTS:
    # Any Host would pass, and with it any Origin claiming that host.
    raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must name this site's hosts, not '*'.")

INSTALLED_APPS = [
    # daphne first: its runserver replaces Django's so `manage.py runserver`
    # speaks ASGI. Only when debugging: the app loads daphne's server and
    # Twisted (~20 MB) into every process, uvicorn's included.
    *(["daphne"] if DEBUG else []),
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "axes",
    "channels",
    "csp",
    "accounts",
    "rooms",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "accounts.middleware.ProviderSessionRefresh",
    "chatsite.csp.ChatCSPMiddleware",
    # Last, as django-axes asks: it answers a locked-out sign-in with 429.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "chatsite.urls"
ASGI_APPLICATION = "chatsite.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
# Persistent connections, checked before reuse: under ASGI the database
# thread keeps one instead of reconnecting for every message.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside the writer; IMMEDIATE takes the write lock at
    # BEGIN so concurrent writers queue on busy_timeout instead of failing with
    # "database is locked" when they upgrade a read transaction.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # Not a rule: a new password closes the person's sockets (accounts.passwords).
    {"NAME": "accounts.passwords.NewPasswordEndsChat"},
]

AUTHENTICATION_BACKENDS = [
    # First: refuses every sign-in of a locked-out account or address.
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.ProviderBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# OpenID Connect (mozilla-django-oidc). Endpoints come from
# <OIDC_ISSUER>/.well-known/openid-configuration unless set here by the
# library's own names (OIDC_OP_AUTHORIZATION_ENDPOINT, OIDC_OP_TOKEN_ENDPOINT,
# OIDC_OP_USER_ENDPOINT, OIDC_OP_JWKS_ENDPOINT, OIDC_OP_LOGOUT_ENDPOINT).
# Exactly as the provider writes it in `iss` (Auth0 keeps a trailing slash).
OIDC_ISSUER = env.str("OIDC_ISSUER", default="")
OIDC_RP_CLIENT_ID = env.str("OIDC_CLIENT_ID", default="")
OIDC_RP_CLIENT_SECRET = env.str("OIDC_CLIENT_SECRET", default="")
OIDC_ENABLED = bool(OIDC_ISSUER and OIDC_RP_CLIENT_ID)
OIDC_PROVIDER_NAME = env.str("OIDC_PROVIDER_NAME", default="your identity provider")
OIDC_OP_AUTHORIZATION_ENDPOINT = env.str("OIDC_OP_AUTHORIZATION_ENDPOINT", default=None)
OIDC_OP_TOKEN_ENDPOINT = env.str("OIDC_OP_TOKEN_ENDPOINT", default=None)
OIDC_OP_USER_ENDPOINT = env.str("OIDC_OP_USER_ENDPOINT", default=None)
OIDC_OP_JWKS_ENDPOINT = env.str("OIDC_OP_JWKS_ENDPOINT", default=None)
OIDC_OP_LOGOUT_ENDPOINT = env.str("OIDC_OP_LOGOUT_ENDPOINT", default=None)
# The library defaults to HS256 signed with the client secret; providers sign with keys.
OIDC_RP_SIGN_ALGO = env.str("OIDC_RP_SIGN_ALGO", default="RS256")
# Okta sends groups only for a `groups` scope: OIDC_SCOPES="openid email profile groups".
OIDC_RP_SCOPES = env.str("OIDC_SCOPES", default="openid email profile")
# The claim (ID token or userinfo) listing the person's groups at the provider;
# rooms grant access to groups by name. Auth0 needs a namespaced one
# ("https://example.com/groups"). Empty: groups are not read at all.
OIDC_GROUPS_CLAIM = env.str("OIDC_GROUPS_CLAIM", default="groups")
OIDC_USE_PKCE = True
OIDC_PKCE_CODE_CHALLENGE_METHOD = "S256"
# Seconds to wait for the provider; the library's default waits forever.
OIDC_TIMEOUT = env.float("OIDC_TIMEOUT", default=5.0)
# client_secret_basic (RFC 6749's default, Okta and Keycloak) or client_secret_post (Auth0's default).
OIDC_TOKEN_USE_BASIC_AUTH = env.str("OIDC_TOKEN_AUTH_METHOD", default="client_secret_basic") == (
    "client_secret_basic"
)
OIDC_STORE_ID_TOKEN = True  # the id_token_hint of RP-initiated logout
OIDC_RENEW_ID_TOKEN_EXPIRY_SECONDS = env.int("OIDC_RENEW_ID_TOKEN_EXPIRY_SECONDS", default=15 * 60)
if OIDC_ISSUER and not (OIDC_RP_CLIENT_ID and OIDC_RP_CLIENT_SECRET):
    raise ImproperlyConfigured("OIDC_ISSUER is set: set OIDC_CLIENT_ID and OIDC_CLIENT_SECRET too.")

# Local (username/password) sign-in on the site: the embedded default, or
# when no provider is configured, or when asked for. The admin's own sign-in stays.
LOCAL_LOGIN_ENABLED = env.bool("ALLOW_LOCAL_LOGIN", default=DEBUG or not OIDC_ENABLED)

# Sign-in throttling (django-axes, docs/SECURITY.md): after SIGN_IN_FAILURE_LIMIT
# wrong passwords for one username, or from one client address, further tries
# are refused with 429 for SIGN_IN_LOCKOUT_MINUTES (since the last failure),
# on the site's form and the admin's alike. Attempts live in the database, so
# every server process counts them together. A success clears them.
AXES_FAILURE_LIMIT = env.int("SIGN_IN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.float("SIGN_IN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.views.sign_in_locked_out"
# The client address is REMOTE_ADDR: uvicorn's --proxy-headers puts the address
# the proxy forwarded there (django-ipware is not installed).

LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "rooms:dashboard"
LOGOUT_REDIRECT_URL = "landing"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "chatsite.storage.StaticFilesStorage"
    },
}

# In debug, serve static files straight from the app folders (no collectstatic).
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    # Pub/Sub: one PUBLISH per group send and one Redis subscription per group
    # per process, fanned out in-process; the core layer pushes a copy per
    # member through Redis (7x the CPU per delivery, measured: docs/SCALING.md)
    # and loses group memberships when Redis restarts. Ours sends what is
    # published during a round trip as one pipeline (rooms/realtime/redis_layer.py).
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "rooms.realtime.redis_layer.PipelinedRedisPubSubChannelLayer",
            "CONFIG": {
                "hosts": [
                    # redis-py 8 times out idle reads after 5 s by default.
                    {"address": REDIS_URL, "socket_timeout": 30, "health_check_interval": 15}
                ],
                # Pub/Sub channels ignore Redis database numbers: without the
                # number in the prefix, two sites sharing one Redis server
                # (say production and staging on /0 and /1) hear each other.
                "prefix": env.str(
                    "CHANNEL_LAYER_PREFIX", default=f"lets-talk.{urlsplit(REDIS_URL).path.strip('/') or '0'}."
                ),
            },
        }
    }
else:
    CHANNEL_LAYERS = {
        "default": {
            # Channels' in-memory layer, minus its per-recipient copies and scans.
            "BACKEND": "rooms.realtime.layers.FanOutInMemoryChannelLayer",
            # A busy room must not drop frames for a consumer that is a little behind.
            "CONFIG": {"capacity": 1000},
        }
    }

# Chat limits (README "Configuration").
CHAT_JWT_ISSUER = env.str("CHAT_JWT_ISSUER", default="lets-talk")
CHAT_JWT_TTL = env.int("CHAT_JWT_TTL", default=60)
CHAT_MAX_MESSAGE_LENGTH = env.int("CHAT_MAX_MESSAGE_LENGTH", default=2000)
CHAT_MAX_FRAME_BYTES = env.int("CHAT_MAX_FRAME_BYTES", default=16 * 1024)
CHAT_RATE_LIMIT = env.int("CHAT_RATE_LIMIT", default=10)
CHAT_RATE_WINDOW = env.float("CHAT_RATE_WINDOW", default=10.0)
PRESENCE_TTL = env.int("PRESENCE_TTL", default=60)
# Seconds after sending that its author may still edit a message (0: never);
# distinct emoji one message may carry.
CHAT_EDIT_WINDOW = env.int("CHAT_EDIT_WINDOW", default=900)
CHAT_MAX_REACTIONS = env.int("CHAT_MAX_REACTIONS", default=20)
# Sockets one user may hold open on one server process, all rooms together.
CHAT_MAX_SOCKETS_PER_USER = env.int("CHAT_MAX_SOCKETS_PER_USER", default=20)
# The event log (README "Delivery"): a client this many room events behind
# reloads the latest history instead of replaying; every socket hears the
# room's current seq this often, so a lost last event is noticed too.
CHAT_RECOVERY_LIMIT = env.int("CHAT_RECOVERY_LIMIT", default=1000)
CHAT_POSITION_INTERVAL = env.float("CHAT_POSITION_INTERVAL", default=30.0)
# Presence news waits up to this many seconds (or until the room's next frame)
# so that changes close together go out as one presence_diff frame (0: each at once).
CHAT_PRESENCE_COALESCE = env.float("CHAT_PRESENCE_COALESCE", default=0.05)
# Search (rooms.search): the PostgreSQL text search config that stems words
# ("simple": none, so every language works; "english", "german", ...; on SQLite
# only "english" stems). After changing it: manage.py search_reindex. And
# searches one person may make per window of seconds.
CHAT_SEARCH_CONFIG = env.str("CHAT_SEARCH_CONFIG", default="simple")
if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", CHAT_SEARCH_CONFIG):
    raise ImproperlyConfigured(
        f"CHAT_SEARCH_CONFIG must name a text search configuration, not {CHAT_SEARCH_CONFIG!r}."
    )
CHAT_SEARCH_RATE_LIMIT = env.int("CHAT_SEARCH_RATE_LIMIT", default=30)
CHAT_SEARCH_RATE_WINDOW = env.float("CHAT_SEARCH_RATE_WINDOW", default=60.0)
if CHAT_SEARCH_RATE_LIMIT < 1 or CHAT_SEARCH_RATE_WINDOW <= 0:
    raise ImproperlyConfigured("CHAT_SEARCH_RATE_LIMIT must be 1 or more, CHAT_SEARCH_RATE_WINDOW above 0.")
# Backpressure (rooms.realtime.writer): what may wait for one client that reads
# slowly, and how long its connection may stay full before it is cut off (4013).
CHAT_SEND_QUEUE_FRAMES = env.int("CHAT_SEND_QUEUE_FRAMES", default=1000)
CHAT_SEND_QUEUE_BYTES = env.int("CHAT_SEND_QUEUE_BYTES", default=256 * 1024)
# The kernel's send buffer per client socket (SO_SNDBUF; 0 leaves the kernel's
# autotuning, up to 4 MB on Linux, for a client that never reads).
CHAT_SOCKET_SEND_BUFFER = env.int("CHAT_SOCKET_SEND_BUFFER", default=256 * 1024)
# Seconds a connection may take to send a request's headers under uvicorn
# (chatsite.http_protocol); uvicorn itself has no such limit.
HTTP_HEADER_TIMEOUT = env.float("HTTP_HEADER_TIMEOUT", default=15.0)
CHAT_SLOW_SOCKET_TIMEOUT = env.float("CHAT_SLOW_SOCKET_TIMEOUT", default=5.0)


def _origin(url: str | None) -> str | None:
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


_provider_origins = sorted({o for o in map(_origin, [OIDC_ISSUER, OIDC_OP_LOGOUT_ENDPOINT]) if o})

# Content-Security-Policy: scripts and styles only from our own origin.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        # The sign-out form redirects to the provider's end-session endpoint,
        # and browsers hold form redirects to form-action too.
        "form-action": ["'self'", *_provider_origins],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}

# Database sessions whose end closes their sockets (accounts.sessions).
SESSION_ENGINE = "accounts.sessions"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
    if not SECURE_HSTS_PRELOAD:
        # Preloading commits the whole domain to HTTPS in browsers for good:
        # the operator's call (SECURE_HSTS_PRELOAD=1), not a default.
        SILENCED_SYSTEM_CHECKS = ["security.W021"]
    # The TLS-terminating proxy tells us the original scheme.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {"django": {"level": env.str("DJANGO_LOG_LEVEL", default="INFO")}},
}
