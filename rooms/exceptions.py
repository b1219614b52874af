"""Domain errors; each `code` becomes the `code` of an `error` frame."""

from __future__ import annotations


class Refusal(Exception):
    """Something refused, with a machine `code` and a `detail` to show to the person."""

    code = "error"
    detail = "That could not be done."

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail or self.detail)
        self.detail = detail or self.detail


class ChatError(Refusal):
    """A frame or message the room refuses; the socket stays open."""

    # Counts towards closing a client that keeps sending refused frames (4008).
    strike = True


class InvalidJson(ChatError):
    """The frame is not JSON text."""

    code = "invalid_json"
    detail = "Frames must be JSON text."


class InvalidFrame(ChatError):
    """The frame is JSON but not a frame we understand."""

    code = "invalid_frame"
    detail = 'Send {"type": "message", "text": "...", "client_id": "..."}.'


class EmptyMessage(ChatError):
    """The message has no text once stripped."""

    code = "empty"
    detail = "A message cannot be empty."


class MessageTooLong(ChatError):
    """The message is longer than CHAT_MAX_MESSAGE_LENGTH."""

    code = "too_long"
    detail = "That message is too long."


class RateLimited(ChatError):
    """The sender went past CHAT_RATE_LIMIT messages per CHAT_RATE_WINDOW seconds."""

    code = "rate_limited"
    detail = "You are sending messages too fast; wait a moment."

    def __init__(self, retry_after: float = 0.0) -> None:
        super().__init__()
        # Seconds until the window takes one more message; the error frame says it.
        self.retry_after = retry_after


class Muted(ChatError):
    """A moderator muted the sender in this room for a while."""

    code = "muted"
    detail = "A moderator muted you in this room for a while."
    strike = False  # a muted person retrying is not abuse


class MessageNotFound(ChatError):
    """No such message in this room (never sent, or deleted since)."""

    code = "not_found"
    detail = "That message is not in this room any more."
    strike = False  # deleted by someone else a moment ago: no abuse


class NotAuthor(ChatError):
    """Only a message's author may change it (and moderators delete it)."""

    code = "not_author"
    detail = "Only its author can change that message."


class EditWindowOver(ChatError):
    """The message is older than CHAT_EDIT_WINDOW, or editing is off (0)."""

    code = "edit_window_over"
    detail = "That message can no longer be edited."
    strike = False  # a page whose clock drifted offers Edit a moment too long


class TooManyReactions(ChatError):
    """The message already carries CHAT_MAX_REACTIONS distinct emoji."""

    code = "too_many_reactions"
    detail = "That message has as many different reactions as it can take."
    strike = False


class InvalidEmoji(ChatError):
    """A reaction must be exactly one emoji."""

    code = "invalid_emoji"
    detail = "A reaction is a single emoji."
    strike = False  # typed by a person into the picker's box


class RefreshRefused(ChatError):
    """A refresh ticket not valid, or not of this person, session and room: the deadline stays."""

    code = "refresh_refused"
    detail = "That ticket cannot renew this connection: fetch a new one."


class DirectRoomRefused(Exception):
    """A direct conversation cannot be opened with that person (yourself, or someone deactivated).

    Not a ChatError: it is refused by the page that opens conversations, never on a socket.
    """

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InvalidSearch(Refusal):
    """A search /search/ cannot run as written (a bad date, too many words): 400 with the code."""

    code = "invalid_search"
    detail = "That search could not be read."


class SearchTooShort(InvalidSearch):
    """A search with too few letters to mean anything, and no filter to narrow it."""

    code = "too_short"


class SearchTooLong(InvalidSearch):
    """A search longer than the endpoint reads."""

    code = "too_long"
