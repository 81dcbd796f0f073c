"""Browser clients with headers of their own: a preflight naming arbitrary request headers (the
web client's direct mode sends ``x-vtoken`` and ``x-ctoken``) is allowed by default, and the
headers browser code must read (``Retry-After``, ``X-Request-Id``, the rate-limit headers) are
exposed. Over real HTTP, with the default settings."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.support.acceptance import client, start_server
from tests.support.servers import GatewayServer

pytestmark = pytest.mark.slow

ORIGIN = "https://web-client.example"
EXPOSED = {
    "retry-after",
    "x-request-id",
    "x-ratelimit-limit-requests",
    "x-ratelimit-remaining-requests",
    "x-ratelimit-reset-requests",
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayServer]:
    started = start_server(tmp_path_factory.mktemp("cors") / "data")
    try:
        yield started
    finally:
        started.stop()


def _names(value: str) -> set[str]:
    return {part.strip().lower() for part in value.split(",") if part.strip()}


@pytest.mark.parametrize(
    "path", ["/luma/generations", "/v1/videos", "/dream-machine/v1/generations"]
)
def test_preflight_with_arbitrary_headers_is_allowed(server: GatewayServer, path: str) -> None:
    with httpx.Client(base_url=server.base_url) as browser:
        response = browser.options(
            path,
            headers={
                "Origin": ORIGIN,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "x-vtoken, x-ctoken, authorization, content-type",
            },
        )
    assert response.status_code == 200, response.text
    allowed = _names(response.headers["access-control-allow-headers"])
    assert {"x-vtoken", "x-ctoken", "authorization", "content-type"} <= allowed
    assert "POST" in response.headers["access-control-allow-methods"]
    assert response.headers["access-control-allow-origin"] in ("*", ORIGIN)


def test_responses_expose_the_headers_browser_code_reads(server: GatewayServer) -> None:
    key = server.create_key("browser", "--rpm", "5")
    with client(server.base_url, key) as http:
        response = http.get(
            "/luma/users/me", headers={"Origin": ORIGIN, "x-vtoken": "t", "x-ctoken": "c"}
        )
    assert response.status_code == 200, response.text
    assert _names(response.headers["access-control-expose-headers"]) >= EXPOSED
    assert response.headers["x-ratelimit-limit-requests"] == "5"  # and they are really there
    assert response.headers["x-request-id"]
