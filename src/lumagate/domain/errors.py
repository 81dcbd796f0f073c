"""Errors the service layer raises; each dialect renders them in its own error shape."""

from __future__ import annotations


class GatewayError(Exception):
    """Base: ``kind`` picks the HTTP status and error type in every dialect."""

    status = 400
    kind = "invalid_request_error"
    code = "invalid_request"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code is not None:
            self.code = code


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

    def __init__(self, message: str, retry_after: int) -> None:
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


class PayloadTooLarge(GatewayError):
    status = 413
    code = "payload_too_large"


class TaskAlreadyEnded(GatewayError):
    """409: the task cannot be cancelled, it has already completed, failed or been cancelled."""

    status = 409
    code = "task_already_ended"
