"""Domain errors; each `code` becomes the `code` of an `error` frame."""

from __future__ import annotations


class ChatError(Exception):
    """A frame or message the room refuses; the socket stays open."""

    code = "error"
    detail = "That could not be done."
    # Counts towards closing a client that keeps sending refused frames (4008).
    strike = True

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail or self.detail)
        self.detail = detail or self.detail


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
