"""Every URL a tenant gives, in every dialect, is refused before any connection when it names
the gateway's own network — and the loopback canary standing there hears nothing.

A real ``lumagate serve`` over loopback. The forbidden targets are written in every spelling the
issue lists; those that name the canary carry its port, so a single request that slipped
through would show in ``canary.hits``. The non-loopback targets (10.0.0.1, 192.168.1.1, the
metadata address) are refused by the guard before any socket is opened, so this test never
connects anywhere but loopback.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.canary import PNG, Canary
from tests.support.servers import GatewayServer, server_env
from tests.support.upstreams import db_rows

pytestmark = pytest.mark.slow

PNG_URI = "data:image/png;base64," + base64.b64encode(PNG).decode()
Body = Callable[[str], dict[str, Any]]


def _chat(url: str) -> dict[str, Any]:
    content = [{"type": "text", "text": "a cat"}, {"type": "image_url", "image_url": {"url": url}}]
    return {"model": "luma", "messages": [{"role": "user", "content": content}]}


def _frame(name: str) -> Body:
    return lambda url: {"prompt": "a cat", "keyframes": {name: {"type": "image", "url": url}}}


# (dialect field as the error must name it, path, body builder)
FIELDS: list[tuple[str, str, Body]] = [
    ("image_url", "/luma/generations", lambda u: {"user_prompt": "a cat", "image_url": u}),
    ("image_end_url", "/luma/generations", lambda u: {"user_prompt": "a", "image_end_url": u}),
    ("url", "/luma/generations/file_upload", lambda u: {"url": u}),
    ("keyframes.frame0.url", "/dream-machine/v1/generations", _frame("frame0")),
    ("keyframes.frame1.url", "/dream-machine/v1/generations", _frame("frame1")),
    ("image", "/v1/video/generations", lambda u: {"prompt": "a cat", "image": u}),
    ("images[0]", "/v1/video/generations", lambda u: {"prompt": "a cat", "images": [u]}),
    ("images[1]", "/v1/video/generations", lambda u: {"prompt": "a", "images": [PNG_URI, u]}),
    (
        "metadata.image_end_url",
        "/v1/video/generations",
        lambda u: {"prompt": "a cat", "metadata": {"image_end_url": u}},
    ),
    ("input_reference", "/v1/videos", lambda u: {"prompt": "a cat", "input_reference": u}),
    ("image", "/api/generations/create", lambda u: {"prompt": "a cat", "image": u}),
    ("image_end", "/api/generations/create", lambda u: {"prompt": "a cat", "image_end": u}),
    ("messages.content.image_url", "/v1/chat/completions", _chat),
]


def _targets(port: int) -> list[str]:
    return [
        f"http://127.0.0.1:{port}/image.png",
        f"http://[::1]:{port}/image.png",
        f"http://127.0.0.2:{port}/image.png",
        f"http://0x7f000001:{port}/image.png",
        f"http://2130706433:{port}/image.png",
        f"http://[::ffff:127.0.0.1]:{port}/image.png",
        f"http://localhost:{port}/image.png",
        "http://10.0.0.1/image.png",
        "http://192.168.1.1/image.png",
        "http://169.254.169.254/latest/meta-data/",
        f"http://localhost.:{port}/image.png",  # a name (with the root dot) resolving to loopback
        "file:///etc/passwd",
        f"gopher://127.0.0.1:{port}/_GET%20/image.png",
    ]


@pytest.fixture(scope="module")
def canary() -> Iterator[Canary]:
    listening = Canary().start()
    try:
        yield listening
    finally:
        listening.stop()


@pytest.fixture(scope="module")
def allowing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """A gateway whose allow-list admits 127.0.0.1 (the canary) and nothing else."""
    server = _server(tmp_path_factory.mktemp("allowing"), callback_allow="127.0.0.1/32")
    try:
        with _client(server) as http:
            yield http
    finally:
        server.stop()


def _server(data_dir: Path, **settings: str) -> GatewayServer:
    data_dir.mkdir(parents=True, exist_ok=True)
    env = server_env(data_dir, refresh_interval_seconds="0.3", **settings)
    return GatewayServer(data_dir, env).start()


def _client(server: GatewayServer) -> httpx.Client:
    key = server.create_key("ssrf")
    return httpx.Client(
        base_url=server.base_url,
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
        trust_env=False,
    )


def test_every_url_field_refuses_every_internal_target(tmp_path: Path, canary: Canary) -> None:
    canary.hits.clear()
    server = _server(tmp_path / "gw")
    try:
        with _client(server) as http:
            refusals = 0
            for field, path, body in FIELDS:
                for target in _targets(canary.port):
                    response = http.post(path, json=body(target))
                    where = f"{path} {field}={target}"
                    assert response.status_code == 400, f"{where}: {response.text}"
                    assert field in response.text, f"{where}: {response.text}"
                    if "localhost" in target:  # the address a name resolves to is never told
                        assert "127.0.0.1" not in response.text and "::1" not in response.text
                    refusals += 1
        assert refusals == len(FIELDS) * 13
        assert canary.hits == []
        assert db_rows(server, "SELECT id FROM tasks") == []
    finally:
        server.stop()


def _wait_failed(http: httpx.Client, task_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        task: dict[str, Any] = http.get(f"/luma/generations/{task_id}").json()
        if task["state"] in ("completed", "failed"):
            return task
        time.sleep(0.2)
    raise AssertionError(f"task {task_id} did not finish")


def test_a_redirect_from_an_allowed_host_to_a_forbidden_one_is_refused(
    allowing: httpx.Client, canary: Canary
) -> None:
    """The canary on 127.0.0.1 is allow-listed for this gateway only; its redirects to other
    loopback addresses (and to non-loopback internal ones) are refused before connecting."""
    http = allowing
    forbidden = Canary(addresses=("127.0.0.2", "::1")).start()
    canary.hits.clear()
    try:
        hosted = http.post("/luma/generations/file_upload", json={"url": canary.url()})
        assert hosted.status_code == 200, hosted.text  # allowed: fetched and hosted here
        assert hosted.json()["public_url"].startswith(str(http.base_url).rstrip("/") + "/files/")
        assert http.get(hosted.json()["public_url"]).content == PNG
        for target in (
            f"http://127.0.0.2:{forbidden.port}/image.png",
            f"http://[::1]:{forbidden.port}/image.png",
            "http://169.254.169.254/latest/meta-data/",
            "http://10.0.0.1/image.png",
            "file:///etc/passwd",
        ):
            url = canary.url(f"/redirect?to={target}")
            upload = http.post("/luma/generations/file_upload", json={"url": url})
            assert upload.status_code == 400, upload.text
            assert upload.json()["error"]["message"] == (
                "the image at url is not allowed: 127.0.0.1 redirected to a URL that is not allowed"
            )
            created = http.post("/luma/generations", json={"user_prompt": "a", "image_url": url})
            assert created.status_code == 200, created.text  # the first hop is allowed
            task = _wait_failed(http, created.json()["id"])
            assert task["state"] == "failed"
            assert task["failure_reason"] == (
                "the image at image_url is not allowed: "
                "127.0.0.1 redirected to a URL that is not allowed"
            )
        assert forbidden.hits == []
        assert len([h for h in canary.hits if h.startswith("/redirect")]) == 10
    finally:
        forbidden.stop()


def test_a_failed_fetch_tells_the_tenant_only_what_they_may_know(
    allowing: httpx.Client, canary: Canary
) -> None:
    http = allowing
    missing = canary.url("/missing.png")
    upload = http.post("/luma/generations/file_upload", json={"url": missing})
    assert upload.status_code == 400
    assert upload.json()["error"]["message"] == (
        "the image at url could not be fetched: HTTP 404 from 127.0.0.1"
    )
    created = http.post("/luma/generations", json={"user_prompt": "a", "image_url": missing})
    task = _wait_failed(http, created.json()["id"])
    assert task["failure_reason"] == (
        "the image at image_url could not be fetched: HTTP 404 from 127.0.0.1"
    )
    nowhere = "http://images.invalid/a.png"  # .invalid never resolves (RFC 6761)
    created = http.post("/luma/generations", json={"user_prompt": "a", "image_url": nowhere})
    assert created.status_code == 200, created.text  # may be a passing DNS failure
    task = _wait_failed(http, created.json()["id"])
    assert task["failure_reason"] == (
        "the image at image_url could not be fetched: images.invalid does not resolve"
    )
