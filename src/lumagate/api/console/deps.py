"""What console routes depend on: the console's parts, the signed-in session, a CSRF-checked form.

A page without a valid session answers a browser's GET with a redirect to the sign-in page and
anything else with 401; a form whose CSRF token is missing or wrong is refused with 403 before
any service is called.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Request
from starlette.datastructures import FormData, UploadFile

from lumagate.api.console.session import (
    CSRF_FIELD,
    SESSION_COOKIE,
    ConsoleSession,
    SessionCodec,
    SignInLimiter,
)
from lumagate.api.console.templating import Pages
from lumagate.security.admin_key import AdminKey
from lumagate.service.account_checks import CredentialTester
from lumagate.service.admin import AdminService
from lumagate.service.insights import InsightsService
from lumagate.service.tasks import TaskService

MAX_FORM_BYTES = 25 * 1024 * 1024


@dataclass(frozen=True)
class ConsoleServices:
    """The services the console acts through: the same ones /admin and the dialects use."""

    admin: AdminService
    insights: InsightsService
    tasks: TaskService
    checks: CredentialTester


@dataclass(frozen=True)
class Console:
    """Everything a console route needs, built once by :func:`lumagate.api.console.install`."""

    pages: Pages
    sessions: SessionCodec
    limiter: SignInLimiter
    admin_key: Callable[[], AdminKey]
    services: ConsoleServices
    secure_cookies: bool


class SignInRequired(Exception):
    """No valid session: redirect a page view, refuse anything else."""


class CsrfRefused(Exception):
    """A form without the session's CSRF token."""


class FormTooLarge(Exception):
    """A posted form over :data:`MAX_FORM_BYTES`."""


def console_of(request: Request) -> Console:
    console: Console = request.app.state.console
    return console


def services(request: Request) -> ConsoleServices:
    return console_of(request).services


def current_session(request: Request) -> ConsoleSession | None:
    return console_of(request).sessions.read(request.cookies.get(SESSION_COOKIE))


async def require_session(request: Request) -> ConsoleSession:
    session = current_session(request)
    if session is None:
        raise SignInRequired()
    return session


async def checked_form(request: Request, session: ConsoleSession) -> FormData:
    """The posted form, after its CSRF token matched the session's."""
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > MAX_FORM_BYTES:
        raise FormTooLarge()
    form = await request.form()
    token = form.get(CSRF_FIELD)
    if not isinstance(token, str) or not session.csrf_matches(token):
        raise CsrfRefused()
    return form


def text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def upload(form: FormData, name: str) -> UploadFile | None:
    value = form.get(name)
    if isinstance(value, UploadFile) and value.filename:
        return value
    return None
