"""Rendering console pages: one Jinja2 environment over the package's templates, autoescaped.

Every page gets the translator ``t``, the language, the session's CSRF token, the current path
(for the language switch and the active menu item) and a per-response CSP nonce-free policy:
the console loads only its own ``/console/static`` files, so the policy is ``'self'`` only.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse

from lumagate.api.console.i18n import Translator, pick_language
from lumagate.api.console.session import CSRF_FIELD, LANG_COOKIE, ConsoleSession

if TYPE_CHECKING:  # Jinja2 (~6 MiB) loads with the first console page, not with the server
    from jinja2 import Environment

PACKAGE_DIR = Path(__file__).parent
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
    "style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; "
    "form-action 'self'; base-uri 'none'"
)
NAV = (
    ("overview", "/console"),
    ("accounts", "/console/accounts"),
    ("keys", "/console/keys"),
    ("tasks", "/console/tasks"),
    ("usage", "/console/usage"),
    ("playground", "/console/playground"),
)


def build_environment() -> Environment:
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(
        loader=FileSystemLoader(PACKAGE_DIR / "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["CSRF_FIELD"] = CSRF_FIELD
    env.globals["NAV"] = NAV
    env.filters["urlquote"] = lambda value: quote(str(value), safe="")
    env.filters["iso"] = parse_iso
    return env


def parse_iso(value: str | None) -> datetime | None:
    """An ISO time as the services write it (``…Z``) back into a datetime, for ``t.datetime``."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def translator_for(request: Request) -> Translator:
    return Translator(
        pick_language(request.cookies.get(LANG_COOKIE), request.headers.get("accept-language"))
    )


def secure_headers(response: HTMLResponse) -> HTMLResponse:
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "no-store"
    return response


class Pages:
    """Renders a template with what every console page needs (the environment is built on
    the first page, so a gateway nobody opens the console of never loads Jinja2)."""

    def __init__(self, build: Callable[[], Environment]) -> None:
        self._build = build
        self._env: Environment | None = None

    @property
    def env(self) -> Environment:
        if self._env is None:
            self._env = self._build()
        return self._env

    def render(
        self,
        request: Request,
        name: str,
        session: ConsoleSession | None,
        status_code: int = 200,
        **context: Any,
    ) -> HTMLResponse:
        t = translator_for(request)
        path = request.url.path
        query = request.url.query
        html = self.env.get_template(name).render(
            t=t,
            lang=t.lang,
            csrf=session.csrf if session else "",
            signed_in=session is not None,
            current_path=path + ("?" + query if query else ""),
            current_section=_section(path),
            flash=_known(t, request.query_params.get("msg")),
            flash_error=_known(t, request.query_params.get("err")),
            detail=request.query_params.get("detail", ""),
            **context,
        )
        return secure_headers(HTMLResponse(html, status_code=status_code))


def _known(t: Translator, key: str | None) -> str | None:
    """Only catalogue messages are shown, so a crafted link cannot put text on the page."""
    return key if key and t.knows(key) else None


def _section(path: str) -> str:
    for name, href in reversed(NAV):
        if path == href or path.startswith(href + "/"):
            return name
    return "overview"
