"""Sign-in, sign-out and the language switch.

Only the admin key signs in (a tenant key is just a wrong key); wrong keys count against the
client's address in :class:`SignInLimiter`. The key is compared in constant time, never echoed
back, and never stored in the cookie: the cookie is a sealed session (see ``session.py``).
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from lumagate.api.console.deps import checked_form, console_of, current_session, require_session
from lumagate.api.console.i18n import LANGUAGES
from lumagate.api.console.session import (
    CSRF_FIELD,
    LANG_COOKIE,
    SESSION_COOKIE,
    SIGN_IN_COOKIE,
    new_sign_in_token,
    tokens_match,
)
from lumagate.api.routers import app_router

SIGN_IN_PATH = "/console/sign-in"
LANGUAGE_COOKIE_SECONDS = 365 * 24 * 3600


def safe_next(value: str | None) -> str:
    """Only a path inside the console may be a redirect target (no open redirect)."""
    if not value:
        return "/console"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not parts.path.startswith("/console"):
        return "/console"
    if value.startswith("//") or "\\" in value:
        return "/console"
    return value


def quote_next(path: str) -> str:
    return quote(path, safe="/")


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def sign_in_page(request: Request) -> Response:
    if current_session(request) is not None:
        return RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
    return _sign_in_form(request, error=None, status_code=200)


def _sign_in_form(request: Request, error: str | None, status_code: int) -> Response:
    console = console_of(request)
    token = new_sign_in_token()
    response = console.pages.render(
        request,
        "sign_in.html",
        None,
        status_code=status_code,
        sign_in_token=token,
        next=safe_next(request.query_params.get("next")),
        error=error,
    )
    response.set_cookie(
        SIGN_IN_COOKIE,
        token,
        max_age=1800,
        path=SIGN_IN_PATH,
        httponly=True,
        samesite="strict",
        secure=console.secure_cookies,
    )
    if status_code == 429:
        response.headers["Retry-After"] = str(error_retry(request))
    return response


def error_retry(request: Request) -> int:
    return console_of(request).limiter.retry_after(_client(request)) or 1


async def sign_in(request: Request) -> Response:
    console = console_of(request)
    form = await request.form()
    token = form.get(CSRF_FIELD)
    if not tokens_match(
        request.cookies.get(SIGN_IN_COOKIE), token if isinstance(token, str) else None
    ):
        return _sign_in_form(request, error="error.csrf", status_code=403)
    client = _client(request)
    if console.limiter.retry_after(client) is not None:
        return _sign_in_form(request, error="error.too_many_attempts", status_code=429)
    key = form.get("admin_key")
    if not isinstance(key, str) or not console.admin_key().matches(key):
        console.limiter.failed(client)
        return _sign_in_form(request, error="error.wrong_key", status_code=401)
    console.limiter.succeeded(client)
    cookie, _ = console.sessions.issue()
    next_value = form.get("next")
    response = RedirectResponse(
        safe_next(next_value if isinstance(next_value, str) else None), status_code=303
    )
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        max_age=int(console.sessions.lifetime),
        path="/",
        httponly=True,
        samesite="strict",
        secure=console.secure_cookies,
    )
    response.delete_cookie(SIGN_IN_COOKIE, path=SIGN_IN_PATH)
    return response


async def sign_out(request: Request) -> Response:
    session = await require_session(request)
    await checked_form(request, session)
    console_of(request).sessions.revoke(session)
    response = RedirectResponse(SIGN_IN_PATH + "?msg=flash.signed_out", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


async def switch_language(request: Request) -> Response:
    """``GET /console/language?lang=zh&next=…``: remember the choice, go back."""
    lang = request.query_params.get("lang", "")
    response = RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
    if lang in LANGUAGES:
        response.set_cookie(
            LANG_COOKIE,
            lang,
            max_age=LANGUAGE_COOKIE_SECONDS,
            path="/",
            samesite="lax",
            secure=console_of(request).secure_cookies,
        )
    return response


def router(app: FastAPI) -> APIRouter:
    routes = app_router(app, include_in_schema=False)
    routes.add_api_route(SIGN_IN_PATH, sign_in_page, methods=["GET"])
    routes.add_api_route(SIGN_IN_PATH, sign_in, methods=["POST"])
    routes.add_api_route("/console/sign-out", sign_out, methods=["POST"])
    routes.add_api_route("/console/language", switch_language, methods=["GET"])
    return routes
