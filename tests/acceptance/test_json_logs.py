"""``LUMAGATE_LOG_FORMAT=json``: every line of a run is a JSON object; a request carries the id
sent in ``X-Request-Id`` (returned in the response), and a task's engine lines carry its task
id and that request id."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.servers import GatewayServer, server_env

pytestmark = pytest.mark.slow
FIELDS = {"time", "level", "logger", "message", "request_id", "task_id", "tenant", "account"}
DEADLINE_SECONDS = 120.0


@pytest.fixture
def json_server(tmp_path: Path) -> Iterator[GatewayServer]:
    """``lumagate serve --log-level info`` with JSON logs (info, so engine lines are there)."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    server = GatewayServer(
        data_dir,
        server_env(data_dir, log_format="json", refresh_interval_seconds="0.5"),
        log_level="info",
    ).start()
    try:
        yield server
    finally:
        if server.process is not None and server.process.poll() is None:
            server.process.send_signal(signal.SIGTERM)
            server.process.wait(timeout=30)


def _lines(server: GatewayServer) -> list[dict[str, Any]]:
    entries = []
    for number, line in enumerate(server.log_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            raise AssertionError(f"line {number} is not JSON: {line!r}") from None
        assert isinstance(entry, dict) and set(entry) >= FIELDS, line
        entries.append(entry)
    return entries


def test_every_line_is_json_with_request_and_task_ids(json_server: GatewayServer) -> None:
    key = json_server.create_key("json-tenant")
    auth = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=json_server.base_url, timeout=30) as http:
        created = http.post(
            "/luma/generations",
            json={"user_prompt": "a fox in json"},
            headers={**auth, "X-Request-Id": "req-fox-123"},
        )
        assert created.status_code == 200 and created.headers["x-request-id"] == "req-fox-123"
        task_id = created.json()["id"]
        made_up = http.get("/healthz")
        assert len(made_up.headers["x-request-id"]) == 32
        refused = http.get("/healthz", headers={"X-Request-Id": "bad id\twith spaces"})
        assert refused.headers["x-request-id"] != "bad id\twith spaces"
        deadline = time.monotonic() + DEADLINE_SECONDS
        while http.get(f"/luma/generations/{task_id}", headers=auth).json()["state"] not in (
            "completed",
            "failed",
        ):
            assert time.monotonic() < deadline, "the task did not end"
            time.sleep(0.25)
    json_server.process.send_signal(signal.SIGTERM)  # type: ignore[union-attr]
    assert json_server.process.wait(timeout=30) == 0  # type: ignore[union-attr]

    entries = _lines(json_server)
    assert entries, "the server logged nothing"
    access = [  # the create only (the key itself was made with POST /admin/keys)
        e
        for e in entries
        if e["logger"] == "uvicorn.access" and "POST /luma/generations" in e["message"]
    ]
    assert [e["request_id"] for e in access] == ["req-fox-123"]
    assert access[0]["tenant"] == "json-tenant"
    engine = [e for e in entries if e["logger"].startswith("lumagate.engine")]
    mine = [e for e in engine if e["task_id"] == task_id]
    assert any("completed" in e["message"] for e in mine), engine
    assert all(e["request_id"] == "req-fox-123" for e in mine)
    assert all(e["account"] == "sandbox" for e in mine if "submitted" in e["message"])
    assert key not in json_server.log_text()
