"""Typed exceptions for the Python client, built from the gateway's error responses.

The gateway answers errors in the caller's dialect: ``{"error": {"message", "type", "code"}}``
on ``/luma`` and ``/admin`` paths, ``{"message": ...}`` on the luma-mock ``/api`` paths. Both
are read here, so every client method raises the same exception classes whatever route it used.
"""

from __future__ import annotations

from typing import Any

import httpx


class LumagateError(Exception):
    """Base of every client error: ``status`` (HTTP, 0 when no answer), ``code``, ``message``."""

    def __init__(self, message: str, *, status: int = 0, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code


class AuthenticationError(LumagateError):
    """401: the key is missing, unknown, expired or revoked."""


class PermissionDeniedError(LumagateError):
    """403 other than quota: e.g. the key may not use this channel."""


class QuotaExceededError(LumagateError):
    """403 ``quota_not_enough``: the key has not enough credits for this task."""


class NotFoundError(LumagateError):
    """404: no such task (or another tenant's, which answers exactly the same)."""


class ValidationError(LumagateError):
    """400/413/422: the request was refused as invalid (the message names the field)."""


class NotReadyError(ValidationError):
    """400 ``task_not_completed``: e.g. a download asked for before the video exists."""


class RateLimitError(LumagateError):
    """429: too many requests or running tasks; ``retry_after`` seconds, when the server said."""

    def __init__(
        self, message: str, *, status: int = 429, code: str | None = None, retry_after: float | None
    ) -> None:
        super().__init__(message, status=status, code=code)
        self.retry_after = retry_after


class ServerError(LumagateError):
    """5xx: the gateway (or its upstream) failed; the request may be retried later."""


class GatewayUnreachableError(LumagateError):
    """No HTTP answer at all: connection refused, DNS failure, timeout."""


class TaskFailedError(LumagateError):
    """``wait`` saw the task end ``failed``; ``generation`` holds its last state."""

    def __init__(self, message: str, generation: Any) -> None:
        super().__init__(message, code="task_failed")
        self.generation = generation


class WaitTimeoutError(LumagateError):
    """``wait`` gave up before the task ended; ``generation`` holds its last state."""

    def __init__(self, message: str, generation: Any) -> None:
        super().__init__(message, code="wait_timeout")
        self.generation = generation


def _message_and_code(body: Any) -> tuple[str | None, str | None]:
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            return _text(error.get("message")), _text(error.get("code"))
        for name in ("message", "detail"):
            if isinstance(body.get(name), str):
                return body[name], _text(body.get("code"))
    return None, None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _retry_after(response: httpx.Response) -> float | None:
    raw = response.headers.get("retry-after")
    try:
        return float(raw) if raw is not None else None
    except ValueError:
        return None


def error_from_response(response: httpx.Response) -> LumagateError:
    """The typed exception for a non-2xx answer."""
    try:
        body = response.json()
    except ValueError:
        body = None
    message, code = _message_and_code(body)
    status = response.status_code
    text = message or f"HTTP {status} from {response.request.url.path}"
    if status == 401:
        return AuthenticationError(text, status=status, code=code)
    if status == 403:
        kind = QuotaExceededError if code == "quota_not_enough" else PermissionDeniedError
        return kind(text, status=status, code=code)
    if status == 404:
        return NotFoundError(text, status=status, code=code)
    if status == 429:
        return RateLimitError(text, status=status, code=code, retry_after=_retry_after(response))
    if status >= 500:
        return ServerError(text, status=status, code=code)
    if code == "task_not_completed":
        return NotReadyError(text, status=status, code=code)
    return ValidationError(text, status=status, code=code)


def unreachable(base_url: str, error: httpx.TransportError) -> GatewayUnreachableError:
    reason = str(error) or type(error).__name__
    return GatewayUnreachableError(f"cannot reach the gateway at {base_url}: {reason}")
