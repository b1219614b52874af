"""Sessions that take their sockets with them (SESSION_ENGINE = "accounts.sessions").

Django's database sessions, stored as accounts.models.SiteSession with the
user and a socket-session id. Every room ticket names that id; the sockets
it opened close (4401) when the session ends, however it ends: sign-out
(flush), a failed provider re-check (the library logs out), `clearsessions`,
an admin ending it, a back-channel logout. A session past its expiry that
nothing cleared is refused at the handshake, and its sockets close when
their deadline (accounts.sessions.socket_deadline) passes unrenewed.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable
from typing import cast

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.base import SessionBase
from django.contrib.sessions.backends.db import SessionStore as DatabaseStore
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import SiteSession
from rooms.realtime import notify

# Where in the session's data its sockets' id is kept.
SOCKET_SESSION_KEY = "_socket_session"
# Where the provider's session id (`sid` of the ID token) is kept (accounts.backends).
PROVIDER_SID_KEY = "oidc_provider_sid"


class SessionStore(DatabaseStore):
    """Database sessions whose end closes their sockets."""

    @classmethod
    def get_model_class(cls) -> type[SiteSession]:
        return SiteSession

    def create_model_instance(self, data: dict) -> SiteSession:
        """The row, with the signed-in user and the socket-session id copied out of the data."""
        return _with_columns(cast(SiteSession, super().create_model_instance(data)), data)

    async def acreate_model_instance(self, data: dict) -> SiteSession:
        """As create_model_instance, for Django's async session API (alogin, asave)."""
        return _with_columns(cast(SiteSession, await super().acreate_model_instance(data)), data)

    def delete(self, session_key: str | None = None) -> None:
        """Delete the session; if nothing holds its socket session any more, close those sockets.

        cycle_key() (sign-in, every provider re-check) saves the data under a
        new key before deleting the old one: the sockets go on.
        """
        key = session_key or self.session_key
        if key is None:
            return
        sessions_end(SiteSession.objects.filter(session_key=key))

    async def adelete(self, session_key: str | None = None) -> None:
        await sync_to_async(self.delete)(session_key)

    @classmethod
    def clear_expired(cls) -> None:
        """`manage.py clearsessions`: expired sessions go, and their sockets with them."""
        sessions_end(SiteSession.objects.filter(expire_date__lt=timezone.now()))

    @classmethod
    async def aclear_expired(cls) -> None:
        await sync_to_async(cls.clear_expired)()


def _with_columns(row: SiteSession, data: dict) -> SiteSession:
    user_id = data.get(SESSION_KEY)
    row.user_id = int(user_id) if user_id is not None else None
    row.socket_session = data.get(SOCKET_SESSION_KEY, "")
    row.provider_sid = data.get(PROVIDER_SID_KEY, "")
    return row


def sessions_end(sessions: QuerySet[SiteSession]) -> int:
    """Delete these sessions and close the sockets of every socket session no session holds now."""
    ids = set(sessions.exclude(socket_session="").values_list("socket_session", flat=True))
    deleted, _ = sessions.delete()
    _sockets_close(ids - held_socket_sessions(ids))
    return deleted


def held_socket_sessions(ids: Iterable[str]) -> set[str]:
    """Those of these socket-session ids that a live session still holds."""
    return set(
        SiteSession.objects.filter(socket_session__in=list(ids), expire_date__gt=timezone.now()).values_list(
            "socket_session", flat=True
        )
    )


def _sockets_close(ids: Iterable[str]) -> None:
    for socket_session in ids:
        notify.session_sockets_close(socket_session=socket_session)


def socket_session(session: SessionBase) -> str:
    """The id this session's sockets are bound to, made on first use (the session is then saved)."""
    value = session.get(SOCKET_SESSION_KEY)
    if not value:
        value = session[SOCKET_SESSION_KEY] = secrets.token_hex(16)
    return value


# Seconds a socket may stay open past its provider re-check: the page's reload through the
# provider (which closes it anyway) starts only once the re-check is due.
RECHECK_GRACE_SECONDS = 15


def socket_deadline(session: SessionBase) -> int:
    """When this session's sockets must have renewed their ticket (Unix time).

    The session's expiry, and for a provider sign-in its next provider re-check
    (mozilla-django-oidc's oidc_id_token_expiration) and a short grace: a
    socket never outlives either. A ticket fetched once the re-check is due
    gets 401 session_expired instead, and the page reloads through the provider.
    """
    deadline = int(session.get_expiry_date().timestamp())
    recheck = session.get("oidc_id_token_expiration")
    if settings.OIDC_ENABLED and isinstance(recheck, (int, float)):
        # A re-check due that could not run (the provider is down, and the
        # middleware keeps the session): a ticket's minute and the grace, then
        # the page asks again, which tries the provider again.
        if recheck <= time.time():
            recheck = time.time() + settings.CHAT_JWT_TTL
        deadline = min(deadline, int(recheck) + RECHECK_GRACE_SECONDS)
    return deadline


def socket_binding(session: SessionBase) -> tuple[str, int]:
    """The socket session and deadline for a ticket this session mints; it is saved again.

    Saving slides its expiry (SESSION_COOKIE_AGE) from now, as the deadline
    says: no one chatting is signed out mid-conversation, and the deadline
    matches the expiry the handshake reads from the database.
    """
    socket_id = socket_session(session)
    session.modified = True
    return socket_id, socket_deadline(session)


def socket_session_is_live(*, socket_session: str, user_id: int) -> bool:
    """Whether a live (unexpired) session of this user still holds this socket session."""
    return SiteSession.objects.filter(
        socket_session=socket_session, user_id=user_id, expire_date__gt=timezone.now()
    ).exists()
