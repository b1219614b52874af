"""Room pages and their JSON endpoints."""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from accounts.models import User
from accounts.selectors import user_ids_by_handles, user_list_matching
from accounts.sessions import socket_binding
from rooms.access import people_inside, room_get_open, room_shown_name, rooms_open_to
from rooms.direct import NO_SUCH_PERSON, direct_room_open
from rooms.exceptions import DirectRoomRefused, NotAuthor
from rooms.models import Room, RoomKind
from rooms.realtime.handshake import tickets
from rooms.realtime.handshake.query import whole_number
from rooms.realtime.process import transport
from rooms.selectors import (
    HISTORY_LENGTH,
    HISTORY_PAGE_MAX,
    message_get_in_room,
    message_list_around,
    message_list_following,
    message_list_latest,
    room_events_since,
    user_get_active,
)
from rooms.services import message_delete, room_read_mark
from rooms.unread import dashboard_rooms, room_read_seq

SIGNED_OUT = "You are not signed in."
MESSAGE_NOT_FOUND = "No such message in this room."
ROOM_NOT_FOUND = "No such room, or it was closed."
# Where a page of history starts from: at most one of them.
PAGE_ANCHORS = ("before", "after", "around")
ANCHOR_INVALID = "%s must be a positive whole number (a message id)."
ANCHORS_EXCLUSIVE = "Give at most one of before, after and around."
LIMIT_INVALID = "limit must be a positive whole number."
# Longer than any handle: what is typed after @ is only ever a prefix of one.
PEOPLE_QUERY_MAX_LENGTH = 150
SINCE_INVALID = "since must be a whole number (the last seq you applied)."


class AuthenticatedRequest(HttpRequest):
    """A request login_required (or login_required_json) let through: its user is signed in."""

    user: User


def signed_out_response() -> JsonResponse:
    """The JSON endpoints' answer to someone not signed in (401)."""
    return JsonResponse({"error": "not_authenticated", "detail": SIGNED_OUT}, status=401)


def login_required_json(view):
    """Like login_required, but answer 401 JSON instead of redirecting."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return signed_out_response()
        return view(request, *args, **kwargs)

    return wrapper


def room_json_view(view):
    """For a room's JSON endpoints: 401 JSON when signed out, 404 JSON unless the room is active and theirs.

    The view is called with the Room instead of its slug. A room the person
    may not enter answers exactly as an unknown one: no one learns it exists.
    """

    @login_required_json
    @wraps(view)
    def wrapper(request: AuthenticatedRequest, slug: str, **kwargs) -> HttpResponse:
        room = room_get_open(slug=slug, user_id=request.user.pk)
        if room is None:
            return JsonResponse({"error": "not_found", "detail": ROOM_NOT_FOUND}, status=404)
        return view(request, room, **kwargs)

    return wrapper


def _online_counts(slugs: list[str]) -> dict[str, int]:
    return transport().presence.counts(rooms=slugs)


@require_GET
@login_required
def dashboard(request: AuthenticatedRequest) -> HttpResponse:
    """Active rooms with this person's unread and mention counts, who is online, and the last activity.

    Rendered as the dashboard socket's welcome would say it; the page then keeps it current.
    """
    listed = dashboard_rooms(user=request.user, online=_online_counts)
    rooms = [room for room in listed if room["kind"] != RoomKind.DIRECT]
    direct = [room for room in listed if room["kind"] == RoomKind.DIRECT]
    return render(request, "rooms/dashboard.html", {"rooms": rooms, "direct": direct})


@require_GET
@never_cache
@login_required_json
def dashboard_token(request: AuthenticatedRequest) -> JsonResponse:
    """A short-lived ticket to open this person's dashboard socket (minted like room tickets)."""
    return _ticket_response(request, room=tickets.DASHBOARD_ROOM, ws_url="/ws/dashboard/")


@require_GET
@never_cache
@login_required_json
def online_counts(request: AuthenticatedRequest) -> JsonResponse:
    """Online counts per room this person may enter (older clients; the dashboard has its own socket now)."""
    slugs = [room.slug for room in rooms_open_to(user_id=request.user.pk)]
    return JsonResponse({"rooms": _online_counts(slugs)})


@require_GET
@login_required
def room_detail(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    """The room page: recent history, people online, the message box.

    The room (with its seq) is read before the history, so the page resumes
    from that seq and the socket's welcome replays whatever came after.
    """
    room = room_get_open(slug=slug, user_id=request.user.pk)
    if room is None:
        raise Http404(ROOM_NOT_FOUND)
    config = {
        "token_url": reverse("rooms:room_token", args=[room.slug]),
        "user_id": request.user.pk,
        "max_length": settings.CHAT_MAX_MESSAGE_LENGTH,
        # Staff get a delete control on each message (the endpoint checks again).
        "moderator": request.user.is_staff,
        "messages_url": reverse("rooms:room_messages", args=[room.slug]),
        "events_url": reverse("rooms:room_events", args=[room.slug]),
        "people_url": reverse("rooms:room_people", args=[room.slug]),
        "edit_window": settings.CHAT_EDIT_WINDOW,
        # Where this person had read to: the page marks the first message after it.
        "read_seq": room_read_seq(user=request.user, room=room),
    }
    if config["read_seq"] is None:
        # A first visit: what was said before it is not "new" to them. A write on
        # GET, but an idempotent one: a prefetched page only marks a first entry.
        room_read_mark(user=request.user, room=room, seq=room.seq)
        config["read_seq"] = room.seq
    latest = message_list_latest(room=room, limit=HISTORY_LENGTH + 1)
    config["has_more"] = len(latest) > HISTORY_LENGTH
    context = {
        "room": room,
        "room_name": room_shown_name(room=room, user_id=request.user.pk),
        "history": latest[-HISTORY_LENGTH:],
        "config": config,
    }
    return render(request, "rooms/room_detail.html", context)


@require_GET
@never_cache
@room_json_view
def room_token(request: AuthenticatedRequest, room: Room) -> JsonResponse:
    """A short-lived ticket to open this room's WebSocket."""
    return _ticket_response(request, room=room.slug, ws_url=f"/ws/rooms/{room.slug}/")


def _ticket_response(request: AuthenticatedRequest, *, room: str, ws_url: str) -> JsonResponse:
    """A ticket bound to this site session: its sockets close when the session ends (accounts.sessions)."""
    user = request.user
    session, until = socket_binding(request.session)
    token = tickets.issue(
        user_id=user.pk,
        name=user.get_display_name(),
        room=room,
        generation=user.ticket_generation,
        session=session,
        until=until,
    )
    return JsonResponse({"token": token, "expires_in": settings.CHAT_JWT_TTL, "ws_url": ws_url})


def _positive_int(value: str | None, error: str) -> int | None:
    """A positive whole number from the query string, None when absent; ValueError(error) otherwise."""
    if value is None or value == "":
        return None
    number = whole_number(value)
    if number is None or number < 1:
        raise ValueError(error)
    return number


@require_GET
@never_cache
@room_json_view
def room_messages(request: HttpRequest, room: Room) -> JsonResponse:
    """A page of history, at most `limit` (≤ 100) messages, oldest first.

    Older than `before` (a message id; the latest without it), newer than
    `after`, or `around` one message (where a search result opens).
    """
    try:
        anchors = {key: _positive_int(request.GET.get(key), ANCHOR_INVALID % key) for key in PAGE_ANCHORS}
        limit = _positive_int(request.GET.get("limit"), LIMIT_INVALID) or HISTORY_LENGTH
    except ValueError as exc:
        return _invalid(str(exc))
    given = {key: value for key, value in anchors.items() if value is not None}
    if len(given) > 1:
        return _invalid(ANCHORS_EXCLUSIVE)
    limit = min(limit, HISTORY_PAGE_MAX)
    if "around" in given:
        stretch = message_list_around(room=room, message_id=given["around"], limit=limit)
        if stretch is None:
            return JsonResponse({"error": "not_found", "detail": MESSAGE_NOT_FOUND}, status=404)
        return JsonResponse(
            {"messages": stretch.messages, "has_more": stretch.has_older, "has_newer": stretch.has_newer}
        )
    if "after" in given:
        following, has_newer = message_list_following(room=room, after=given["after"], limit=limit)
        return JsonResponse({"messages": following, "has_newer": has_newer})
    messages = message_list_latest(room=room, before=given.get("before"), limit=limit + 1)
    return JsonResponse({"messages": messages[-limit:], "has_more": len(messages) > limit})


def _invalid(detail: str) -> JsonResponse:
    return JsonResponse({"error": "invalid", "detail": detail}, status=400)


@require_GET
@never_cache
@room_json_view
def room_events(request: HttpRequest, room: Room) -> JsonResponse:
    """Room events after `since` (a seq) in seq order, or the latest history when the log cannot say.

    The same answer a socket resuming with `since` and `epoch` gets in its
    welcome: for a client that noticed a gap on a live socket. A page at a
    time: with `has_more`, ask again from the `seq` it answers.
    """
    since = whole_number(request.GET.get("since", ""))
    if since is None:
        return _invalid(SINCE_INVALID)
    epoch = request.GET.get("epoch", room.epoch)
    recovery = room_events_since(room=room, since=since, epoch=epoch)
    position = {"seq": recovery.seq, "epoch": room.epoch, "recovered": recovery.recovered}
    frames = list(recovery.events.frames)
    if recovery.recovered:
        return JsonResponse({**position, "events": frames, "has_more": recovery.has_more})
    return JsonResponse({**position, "history": frames, "has_more": False})


@require_GET
@never_cache
@room_json_view
def room_people(request: HttpRequest, room: Room) -> JsonResponse:
    """People who may read this room whose handle or name starts with `q`: the @ completion."""
    typed = request.GET.get("q", "")[:PEOPLE_QUERY_MAX_LENGTH]
    return JsonResponse(
        {"people": _people_frames(user_list_matching(typed=typed, among=people_inside(room=room)))}
    )


@require_GET
@never_cache
@login_required_json
def people(request: AuthenticatedRequest) -> JsonResponse:
    """Anyone whose handle or name starts with `q`: whom a direct conversation may be opened with."""
    typed = request.GET.get("q", "")[:PEOPLE_QUERY_MAX_LENGTH]
    others = User.objects.exclude(pk=request.user.pk)
    return JsonResponse({"people": _people_frames(user_list_matching(typed=typed, among=others))})


def _people_frames(people: list[User]) -> list[dict[str, int | str]]:
    return [
        {"id": person.pk, "name": person.get_display_name(), "handle": person.username} for person in people
    ]


@require_POST
@login_required
def direct_open(request: AuthenticatedRequest) -> HttpResponse:
    """Open (or find again) the direct conversation with one person, named by id or @handle; go there."""
    other = _person_named(request.POST.get("user", ""), request.POST.get("handle", ""))
    try:
        if other is None:
            raise DirectRoomRefused(NO_SUCH_PERSON)
        room = direct_room_open(user=request.user, other=other)
    except DirectRoomRefused as refusal:
        messages.error(request, refusal.detail)
        return redirect("rooms:dashboard")
    return redirect("rooms:room_detail", slug=room.slug)


def _person_named(user_id: str, handle: str) -> User | None:
    """The active person a form names by id, or else by @handle (any case)."""
    number = whole_number(user_id) if user_id else None
    if number is not None:
        return user_get_active(user_id=number)
    found = user_ids_by_handles(handles=[handle.strip().lstrip("@").lower()]) if handle.strip() else {}
    return user_get_active(user_id=next(iter(found.values()))) if found else None


@require_POST
@room_json_view
def message_moderate_delete(request: AuthenticatedRequest, room: Room, message_id: int) -> JsonResponse:
    """Staff delete a message from the room page (its author may too): gone for everyone, live."""
    message = message_get_in_room(room=room, message_id=message_id)
    if message is None:
        return JsonResponse({"error": "not_found", "detail": MESSAGE_NOT_FOUND}, status=404)
    try:
        message_delete(message=message, by=request.user)
    except NotAuthor as refusal:
        return JsonResponse({"error": "forbidden", "detail": refusal.detail}, status=403)
    return JsonResponse({"deleted": message.pk})
