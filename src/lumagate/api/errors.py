"""Errors in the caller's dialect: every dialect registers how its errors look, by path.

Exception handlers are global (malformed JSON, oversize bodies and unexpected failures can
happen before a route runs), so they pick the error shape from the request path. Nothing
reaches the client as a bare 500 page: unexpected exceptions are logged and answered in the
dialect's shape with a neutral message.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from lumagate.domain import messages as msg
from lumagate.domain.errors import GatewayError, InvalidRequest, RateLimitExceeded
from lumagate.domain.messages import preferred_language

log = logging.getLogger(__name__)

ErrorBody = Callable[[GatewayError], Any]


@dataclass(frozen=True)
class ErrorDialect:
    name: str
    matches: Callable[[str], bool]
    body: ErrorBody
    validation_status: int = 400


def openai_style_body(error: GatewayError) -> dict[str, Any]:
    """``{"error": {"message", "type", "code"}}``: the reseller and OpenAI-style dialects."""
    return {"error": {"message": error.message, "type": error.kind, "code": error.code}}


_DEFAULT = ErrorDialect("default", lambda _path: True, openai_style_body)
_dialects: list[ErrorDialect] = []


def register_error_dialect(dialect: ErrorDialect) -> None:
    if all(d.name != dialect.name for d in _dialects):
        _dialects.append(dialect)


def dialect_for(path: str) -> ErrorDialect:
    for dialect in _dialects:
        if dialect.matches(path):
            return dialect
    return _DEFAULT


def error_response(
    request: Request, error: GatewayError, status: int | None = None
) -> JSONResponse:
    dialect = dialect_for(request.url.path)
    error = error.localized(preferred_language(request.headers.get("accept-language")))
    headers = {}
    if isinstance(error, RateLimitExceeded):
        headers["Retry-After"] = str(error.retry_after)
    return JSONResponse(dialect.body(error), status_code=status or error.status, headers=headers)


def validation_error(exc: RequestValidationError) -> InvalidRequest:
    first = exc.errors()[0] if exc.errors() else {}
    location = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path")]
    field = ".".join(location) or None
    raw = first.get("msg")
    message = msg.VERBATIM(text=str(raw)) if raw else msg.INVALID_REQUEST()
    return InvalidRequest(
        msg.FIELD_DETAIL(field=field, detail=message) if field else message, field=field
    )


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(GatewayError)
    async def _gateway(request: Request, exc: GatewayError) -> JSONResponse:
        return error_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        dialect = dialect_for(request.url.path)
        return error_response(request, validation_error(exc), dialect.validation_status)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 404:
            error: GatewayError = GatewayError(msg.NOT_FOUND(), code="not_found")
        elif exc.status_code == 405:
            error = GatewayError(msg.METHOD_NOT_ALLOWED(), code="method_not_allowed")
        else:
            error = GatewayError(msg.VERBATIM(text=str(exc.detail)), code="http_error")
        return error_response(request, error, exc.status_code)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        error = GatewayError(msg.INTERNAL_ERROR(), code="internal_error")
        error.kind = "server_error"
        return error_response(request, error, 500)
