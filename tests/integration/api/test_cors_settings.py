"""CORS is configurable: ``LUMAGATE_CORS_ALLOW_HEADERS`` and ``LUMAGATE_CORS_EXPOSE_HEADERS``
(comma-separated) replace the defaults. The app is driven in-process: preflights are answered
by the CORS middleware before any route or service runs."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from lumagate.api.app import create_app
from lumagate.settings import CORS_EXPOSED_HEADERS, Settings

ORIGIN = "https://app.example"


def _preflight(headers: str) -> dict[str, str]:
    return {
        "Origin": ORIGIN,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": headers,
    }


def test_defaults_allow_any_header_and_expose_the_hints(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert settings.cors_allow_headers == ["*"]
    assert settings.cors_expose_headers == list(CORS_EXPOSED_HEADERS)


async def test_configured_lists_replace_the_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LUMAGATE_CORS_ALLOW_HEADERS", "Authorization, Content-Type")
    monkeypatch.setenv("LUMAGATE_CORS_EXPOSE_HEADERS", "Retry-After")
    settings = Settings(data_dir=tmp_path)
    assert settings.cors_allow_headers == ["Authorization", "Content-Type"]
    app = create_app(settings, start_engine=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
        allowed = await http.options("/luma/generations", headers=_preflight("authorization"))
        refused = await http.options("/luma/generations", headers=_preflight("x-vtoken"))
        simple = await http.get("/ping", headers={"Origin": ORIGIN})
    assert allowed.status_code == 200
    assert (
        refused.status_code == 400
        and "x-vtoken" not in refused.headers.get("access-control-allow-headers", "").lower()
    )
    assert simple.status_code == 200
    assert simple.headers["access-control-expose-headers"].lower() == "retry-after"
