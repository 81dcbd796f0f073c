"""Shared parts of the server-level mirroring tests: a sim whose media links expire, gateways
with fast mirror retries, and how each dialect's clients fetch a finished video.

Used by tests/acceptance/test_media_mirroring*.py (``sim`` is a fixture: import it there).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.support.servers import GatewayServer
from tests.support.upstreams import (
    SimProcess,
    create,
    db_rows,
    make_gateway,
    official,
    sim_get,
    web,
)
from tests.support.waiting import wait_until

OFFICIAL_KEY = "luma-mirror-key"
WEB_TOKEN = "mirror-web-session"
TTL_SECONDS = 3.0
FAST_MIRROR = {
    "mirror_backoff_base_seconds": "0.2",
    "mirror_backoff_cap_seconds": "0.5",
    "mirror_attempts": "200",
}
SIM_TIMELINE: dict[str, object] = {
    "queued_seconds": 0.1,
    "dreaming_seconds": 0.3,
    "web_null_video_rate": 0.0,
    "callback_duplicate_rate": 0.0,
    "seed": 11,
    "media_ttl_seconds": TTL_SECONDS,
}


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[SimProcess]:
    media = tmp_path / "sim-media"
    media.mkdir()
    process = SimProcess(tmp_path / "sim.log", media_dir=media, **SIM_TIMELINE).start()
    try:
        yield process
    finally:
        process.stop()


def mirror_gateway(
    tmp_path: Path, sim: SimProcess, database: dict[str, str], **settings: str
) -> GatewayServer:
    accounts = [official(sim, "official", OFFICIAL_KEY, 3), web(sim, "web", WEB_TOKEN, 3)]
    return make_gateway(tmp_path / "gw", accounts, **database, **FAST_MIRROR, **settings)


def media_mode(sim: SimProcess, mode: str) -> None:
    with sim.client() as debug:
        assert debug.post("/_sim/media", json={"mode": mode}).is_success


def mirror_rows(server: GatewayServer) -> dict[str, dict[str, Any]]:
    rows = db_rows(server, "SELECT id, state, attempts, source, copied FROM media_mirrors")
    for row in rows:
        for name in ("source", "copied"):
            if isinstance(row[name], str):
                row[name] = json.loads(row[name])
    return {row["id"]: row for row in rows}


def expiry(url: str) -> float:
    return float(parse_qs(urlsplit(url).query)["exp"][0])


def wait_expired(rows: dict[str, dict[str, Any]]) -> None:
    """Wait (a deadline, not a sleep) until every stored upstream link is past its ``exp``."""
    latest = max(
        expiry(link)
        for row in rows.values()
        for link in row["source"].values()
        if isinstance(link, str) and "exp=" in link
    )
    wait_until(lambda: time.time() > latest + 0.2, "the upstream links expired", timeout=30)


def upstream_bytes(sim: SimProcess, row: dict[str, Any]) -> bytes:
    """The video as the upstream gives it now (a fresh link, asked for with the credentials)."""
    with sim.client() as http:
        if row["account"] == "official":
            generation = http.get(
                f"/dream-machine/v1/generations/{row['upstream_id']}",
                headers={"Authorization": f"Bearer {OFFICIAL_KEY}"},
            ).json()
            link = generation["assets"]["video"]
        else:
            cookie = f"access_token={WEB_TOKEN}; luma_session=s-{WEB_TOKEN}"
            link = http.get(
                f"/api/photon/v1/generations/{row['upstream_id']}/download_video_url",
                headers={"Cookie": cookie},
            ).json()["url"]
        response = http.get(link)
        assert response.status_code == 200, response.text
        return response.content


def get_ok(http: httpx.Client, url: str) -> bytes:
    response = http.get(url)
    assert response.status_code == 200, f"{url}: {response.status_code} {response.text[:200]}"
    return response.content


def create_in_every_dialect(http: httpx.Client) -> dict[str, str]:
    official_task = http.post(
        "/dream-machine/v1/generations", json={"prompt": "official: a tiger", "model": "ray-2"}
    )
    openai_task = http.post("/v1/videos", json={"prompt": "openai: a hummingbird"})
    newapi_task = http.post(
        "/v1/video/generations", json={"model": "ray-2", "prompt": "new-api: a lighthouse"}
    )
    assert official_task.status_code == 201, official_task.text
    assert openai_task.status_code == 200 and newapi_task.status_code == 200
    return {
        "reseller": create(http, {"user_prompt": "reseller: a red fox"}),
        "official": str(official_task.json()["id"]),
        "openai": str(openai_task.json()["id"]),
        "newapi": str(newapi_task.json()["task_id"]),
    }


def dialect_video(http: httpx.Client, dialect: str, task_id: str) -> bytes:
    """The video through the dialect the task was made in, as its clients fetch it."""
    if dialect == "reseller":
        body = http.get(f"/luma/generations/{task_id}").json()
        assert body["video"]["url"] == body["video"]["download_url"]
        return get_ok(http, body["video"]["download_url"])
    if dialect == "official":
        body = http.get(f"/dream-machine/v1/generations/{task_id}").json()
        assert body["state"] == "completed"
        return get_ok(http, body["assets"]["video"])
    if dialect == "openai":
        return get_ok(http, f"/v1/videos/{task_id}/content")
    record = http.get(f"/v1/video/generations/{task_id}").json()["data"]
    assert record["status"] == "SUCCESS"
    return get_ok(http, record["data"]["video"]["download_url"])


def usage(http: httpx.Client) -> Any:
    response = http.get("/luma/subscription/usage")
    assert response.status_code == 200, response.text
    return response.json()


def served_total(sim: SimProcess) -> int:
    return sum(sim_get(sim, "/_sim/media")["served"].values())


def kept_files(server: GatewayServer) -> list[Path]:
    return sorted(p for p in (server.data_dir / "media" / "mirrors").rglob("*") if p.is_file())
