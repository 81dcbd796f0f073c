"""Debian's Chromium driven by Playwright for the console tests (never Playwright's download).

:func:`chromium_or_skip` fails the test in CI (env ``CI`` set) when Chromium or Playwright is
missing, and skips it locally with the reason. :class:`RequestLog` records every request a page
makes, so a test can prove the console talks to no host but the gateway. Screenshots go to
``test-artifacts/console/`` at the repository root (git-ignored; CI keeps it as an artifact).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Request

CHROMIUM = os.environ.get("LUMAGATE_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "console"


def chromium_or_skip() -> str:
    """The Chromium executable; fail in CI, skip elsewhere, when it or Playwright is missing."""
    reason = None
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        reason = f"Chromium not found at {CHROMIUM} (apt-get install -y chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            reason = "the playwright package is not installed (pip install -e '.[dev]')"
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return CHROMIUM


@dataclass
class RequestLog:
    """Every URL the pages requested, to check they all went to the gateway."""

    urls: list[str] = field(default_factory=list)

    def record(self, request: Request) -> None:
        self.urls.append(request.url)

    def foreign(self, base_url: str) -> list[str]:
        local = ("data:", "blob:", "about:")
        return [
            u for u in self.urls if not u.startswith(base_url + "/") and not u.startswith(local)
        ]


def screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
