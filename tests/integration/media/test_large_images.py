"""Huge images cost nothing: refused from their header, or decoded within a bounded budget.

A real ``lumagate serve``. A 13000x13000 PNG (~0.5 MB, ~500 MB decoded) is sent through every
way an image comes in as bytes — a data URI in a create, ``file_upload``, luma-mock's multipart
upload and OpenAI's multipart ``input_reference`` — and each is refused with a 400 naming the
limit. An image at the limit (8000x5000, 40 megapixels) is accepted and rendered. Meanwhile a
thread samples the server's resident memory from ``/proc/<pid>/status``: it never grows by
200 MB over the warmed-up baseline.
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.big_png import flat_png
from tests.support.servers import GatewayServer, server_env

pytestmark = pytest.mark.slow

BUDGET_BYTES = 200 * 1024 * 1024
LIMIT_TEXT = "the limit is 8192 pixels a side and 40 megapixels"


def _rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


class _PeakRss:
    """Samples a process's RSS every 20 ms; ``peak`` is the highest seen."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = _rss(pid)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, _rss(self.pid))

    def __enter__(self) -> _PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _uri(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode()


def _completed(http: httpx.Client, body: dict[str, object]) -> dict[str, object]:
    created = http.post("/luma/generations", json=body)
    assert created.status_code == 200, created.text
    deadline = time.monotonic() + 180
    task: dict[str, object] = created.json()
    while task["state"] not in ("completed", "failed") and time.monotonic() < deadline:
        time.sleep(0.3)
        task = http.get(f"/luma/generations/{task['id']}").json()
    return task


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[GatewayServer, httpx.Client]]:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    gateway = GatewayServer(data_dir, server_env(data_dir, refresh_interval_seconds="0.3"))
    key = gateway.create_key("big")
    gateway.start()
    try:
        with httpx.Client(
            base_url=gateway.base_url,
            headers={"Authorization": f"Bearer {key}"},
            timeout=120,
            trust_env=False,
        ) as http:
            yield gateway, http
    finally:
        gateway.stop()


def test_a_13000_square_png_is_refused_everywhere_and_costs_no_memory(
    server: tuple[GatewayServer, httpx.Client],
) -> None:
    gateway, http = server
    assert gateway.process is not None
    warm = _completed(http, {"user_prompt": "warm up", "image_url": _uri(flat_png(64, 36))})
    assert warm["state"] == "completed", warm  # decoder and encoder loaded: the baseline
    huge = flat_png(13000, 13000)
    assert len(huge) < 1024 * 1024
    baseline = _rss(gateway.process.pid)
    with _PeakRss(gateway.process.pid) as rss:
        attempts = [
            http.post("/luma/generations", json={"user_prompt": "a", "image_url": _uri(huge)}),
            http.post("/luma/generations", json={"user_prompt": "a", "image_end_url": _uri(huge)}),
            http.post("/luma/generations/file_upload", json={"url": _uri(huge)}),
            http.post("/api/generations/upload", files={"file": ("huge.png", huge, "image/png")}),
            http.post("/v1/videos", data={"prompt": "a"}, files={"input_reference": huge}),
        ]
        for response in attempts:
            assert response.status_code == 400, response.text
            assert "13000x13000" in response.text and LIMIT_TEXT in response.text
        at_limit = _completed(
            http, {"user_prompt": "at the limit", "image_url": _uri(flat_png(8000, 5000))}
        )
        assert at_limit["state"] == "completed", at_limit
    grown = rss.peak - baseline
    assert grown < BUDGET_BYTES, f"the server grew by {grown / 2**20:.0f} MB"
