"""The operator console at ``/console``: server-rendered pages over the admin services.

One module per page group (``overview``, ``accounts``, ``keys``, ``tasks``, ``usage``,
``playground``), sign-in in ``auth``, sessions and CSRF in ``session``/``deps``, languages in
``i18n``/``messages``. Templates and static files ship inside this package; nothing is loaded
from another host (docs/console.md).
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from lumagate.api.console import accounts, auth, keys, overview, playground, tasks, usage
from lumagate.api.console.deps import (
    Console,
    ConsoleServices,
    CsrfRefused,
    FormTooLarge,
    SignInRequired,
    console_of,
)
from lumagate.api.console.session import SESSION_PURPOSE, SessionCodec, SignInLimiter
from lumagate.api.console.templating import PACKAGE_DIR, Pages, build_environment
from lumagate.api.routers import add_routes
from lumagate.security.admin_key import AdminKey
from lumagate.settings import Settings

__all__ = ["ConsoleServices", "install"]


async def _sign_in_required(request: Request, exc: Exception) -> Response:
    if request.method == "GET" and "application/json" not in request.headers.get("accept", ""):
        target = request.url.path + ("?" + request.url.query if request.url.query else "")
        return RedirectResponse(
            f"{auth.SIGN_IN_PATH}?next={auth.quote_next(target)}", status_code=303
        )
    return _refusal(request, 401, "error.sign_in_required")


async def _csrf_refused(request: Request, exc: Exception) -> Response:
    return _refusal(request, 403, "error.csrf")


async def _too_large(request: Request, exc: Exception) -> Response:
    return _refusal(request, 413, "error.too_large")


def _refusal(request: Request, status: int, message: str) -> Response:
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse({"error": {"code": message}}, status_code=status)
    return console_of(request).pages.render(
        request, "refused.html", None, status_code=status, message=message
    )


def install(
    app: FastAPI,
    settings: Settings,
    admin_key: Callable[[], AdminKey],
    services: ConsoleServices,
) -> None:
    """Mount the console on ``app``; ``/`` redirects to it. ``admin_key`` is read on first use."""
    app.state.console = Console(
        pages=Pages(build_environment),
        sessions=SessionCodec(
            lambda: admin_key().derive(SESSION_PURPOSE), settings.console_session_hours * 3600
        ),
        limiter=SignInLimiter(settings.console_sign_in_attempts),
        admin_key=admin_key,
        services=services,
        secure_cookies=settings.resolved_public_url().startswith("https://"),
    )
    app.add_exception_handler(SignInRequired, _sign_in_required)
    app.add_exception_handler(CsrfRefused, _csrf_refused)
    app.add_exception_handler(FormTooLarge, _too_large)
    app.mount(
        "/console/static", StaticFiles(directory=PACKAGE_DIR / "static"), name="console-static"
    )
    for module in (auth, overview, accounts, keys, tasks, usage, playground):
        add_routes(app, module.router(app))

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse("/console", status_code=307)
