"""Errors the service layer raises; each dialect renders them in its own error shape."""

from __future__ import annotations

from lumagate.domain import messages as msg
from lumagate.domain.messages import ENGLISH, VERBATIM, Language, Text


class GatewayError(Exception):
    """Base: ``kind`` picks the HTTP status and error type in every dialect."""

    status = 400
    kind = "invalid_request_error"
    code = "invalid_request"

    def __init__(self, message: Text, *, field: str | None = None, code: str | None = None) -> None:
        """``message`` is a catalogue :class:`Text` (domain/messages.py); a plain string is
        shown as given in every language (for an upstream's own words)."""
        self.text = message if isinstance(message, Text) else VERBATIM(text=message)
        self.message = self.text.render(ENGLISH)
        super().__init__(self.message)
        self.field = field
        if code is not None:
            self.code = code

    def localized(self, language: Language) -> GatewayError:
        """This error with its message in ``language`` (same class, status, code and fields)."""
        if language == ENGLISH:
            return self
        twin = type(self).__new__(type(self))  # no __init__: subclasses differ in signature
        twin.__dict__.update(self.__dict__)
        twin.message = self.text.render(language)
        twin.args = (twin.message,)
        return twin


class InvalidRequest(GatewayError):
    pass


class AuthenticationRequired(GatewayError):
    status = 401
    kind = "authentication_error"
    code = "invalid_api_key"


class Forbidden(GatewayError):
    status = 403
    kind = "permission_error"
    code = "forbidden"


class QuotaExceeded(GatewayError):
    status = 403
    kind = "quota_error"
    code = "quota_not_enough"


class RateLimitExceeded(GatewayError):
    status = 429
    kind = "rate_limit_error"
    code = "rate_limit_exceeded"

    def __init__(self, message: Text, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TaskNotFound(GatewayError):
    status = 404
    code = "task_not_exist"


class KeyNotFound(GatewayError, LookupError):
    """No API key matches an id, name or display prefix (the one not-found error for keys)."""

    status = 404
    code = "key_not_found"


class NotReady(GatewayError):
    """The task exists but has not produced what was asked for yet."""

    code = "task_not_completed"


class MediaRemoved(GatewayError):
    """The task completed, but the retention policy has since removed its media."""

    status = 410
    code = "media_removed"


class PayloadTooLarge(GatewayError):
    status = 413
    code = "payload_too_large"


class TaskAlreadyEnded(GatewayError):
    """409: the task cannot be cancelled, it has already completed, failed or been cancelled."""

    status = 409
    code = "task_already_ended"


def media_removed(reason: str | None) -> MediaRemoved:
    """The 410 for a task whose media retention removed: the catalogue's text for the reason
    retention stores, any other stored reason as given."""
    if reason is None or reason == msg.MEDIA_REMOVED.en:  # domain.task's MEDIA_REMOVED_REASON
        return MediaRemoved(msg.MEDIA_REMOVED())
    return MediaRemoved(msg.VERBATIM(text=reason))
