"""Finished videos outlive the upstream's links: ``lumagate serve`` + ``lumagate sim`` with
``--media-ttl-seconds``, both as subprocesses, on SQLite and on PostgreSQL.

- every dialect (reseller, official, OpenAI, new-api) gives a link that still downloads the same
  bytes after every upstream link expired;
- ``kill -9`` of the gateway while copies are pending (the sim's storage answers 503), the
  upstream links expire meanwhile, restart: every copy completes through fresh links from
  ``download_url``, and no file is downloaded twice;
- an upstream that lost the files fails the task with the reason, and refunds it;
- a kind listed in ``LUMAGATE_MIRROR_PASS_THROUGH_KINDS`` keeps the upstream's links.
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

from tests.support.databases import ServerDatabase
from tests.support.servers import GatewayServer
from tests.support.upstreams import (
    SimProcess,
    client,
    create,
    db_rows,
    make_gateway,
    official,
    sim_get,
    task_rows,
    wait_terminal,
    web,
)
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow

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


def _gateway(
    tmp_path: Path, sim: SimProcess, database: dict[str, str], **settings: str
) -> GatewayServer:
    accounts = [official(sim, "official", OFFICIAL_KEY, 3), web(sim, "web", WEB_TOKEN, 3)]
    return make_gateway(tmp_path / "gw", accounts, **database, **FAST_MIRROR, **settings)


def _media_mode(sim: SimProcess, mode: str) -> None:
    with sim.client() as debug:
        assert debug.post("/_sim/media", json={"mode": mode}).is_success


def _mirror_rows(server: GatewayServer) -> dict[str, dict[str, Any]]:
    rows = db_rows(server, "SELECT id, state, attempts, source, copied FROM media_mirrors")
    for row in rows:
        for name in ("source", "copied"):
            if isinstance(row[name], str):
                row[name] = json.loads(row[name])
    return {row["id"]: row for row in rows}


def _expiry(url: str) -> float:
    return float(parse_qs(urlsplit(url).query)["exp"][0])


def _wait_expired(rows: dict[str, dict[str, Any]]) -> None:
    """Wait (a deadline, not a sleep) until every stored upstream link is past its ``exp``."""
    latest = max(
        _expiry(link)
        for row in rows.values()
        for link in row["source"].values()
        if isinstance(link, str) and "exp=" in link
    )
    wait_until(lambda: time.time() > latest + 0.2, "the upstream links expired", timeout=30)


def _upstream_bytes(sim: SimProcess, row: dict[str, Any]) -> bytes:
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


def _get(http: httpx.Client, url: str) -> bytes:
    response = http.get(url)
    assert response.status_code == 200, f"{url}: {response.status_code} {response.text[:200]}"
    return response.content


def _create_in_every_dialect(http: httpx.Client) -> dict[str, str]:
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


def _dialect_video(http: httpx.Client, dialect: str, task_id: str) -> bytes:
    """The video through the dialect the task was made in, as its clients fetch it."""
    if dialect == "reseller":
        body = http.get(f"/luma/generations/{task_id}").json()
        assert body["video"]["url"] == body["video"]["download_url"]
        return _get(http, body["video"]["download_url"])
    if dialect == "official":
        body = http.get(f"/dream-machine/v1/generations/{task_id}").json()
        assert body["state"] == "completed"
        return _get(http, body["assets"]["video"])
    if dialect == "openai":
        return _get(http, f"/v1/videos/{task_id}/content")
    record = http.get(f"/v1/video/generations/{task_id}").json()["data"]
    assert record["status"] == "SUCCESS"
    return _get(http, record["data"]["video"]["download_url"])


def _usage(http: httpx.Client) -> Any:
    response = http.get("/luma/subscription/usage")
    assert response.status_code == 200, response.text
    return response.json()


def _served_total(sim: SimProcess) -> int:
    return sum(sim_get(sim, "/_sim/media")["served"].values())


def _kept_files(server: GatewayServer) -> list[Path]:
    return sorted(p for p in (server.data_dir / "media" / "mirrors").rglob("*") if p.is_file())


def test_every_dialect_downloads_the_same_video_after_the_upstream_links_expired(
    sim: SimProcess, tmp_path: Path, server_database: ServerDatabase
) -> None:
    server = _gateway(tmp_path, sim, server_database()).start()
    try:
        with client(server, server.create_key("mirror")) as http:
            ids = _create_in_every_dialect(http)
            done = wait_terminal(http, ids.values(), 90, poll=0.2)
            assert {t["state"] for t in done.values()} == {"completed"}, done
            for task in done.values():  # the gateway's links, not the upstream's
                assert task["video"]["url"].startswith(server.base_url + "/files/mirrors/")
                assert task["thumbnail"]["url"].startswith(server.base_url + "/files/mirrors/")
            mirrors, rows = _mirror_rows(server), task_rows(server)
            assert set(mirrors) == set(ids.values())
            assert {m["state"] for m in mirrors.values()} == {"done"}
            _wait_expired(mirrors)
            first = next(iter(mirrors.values()))["source"]["video"]
            assert httpx.get(first).status_code == 403, "the sim's link did not expire"
            for dialect, task_id in ids.items():
                kept = _dialect_video(http, dialect, task_id)
                assert kept == _upstream_bytes(sim, rows[task_id]), dialect
    finally:
        server.stop()


def test_kill_9_while_copies_wait_then_restart_completes_each_copy_once_with_fresh_links(
    sim: SimProcess, tmp_path: Path, server_database: ServerDatabase
) -> None:
    _media_mode(sim, "unavailable")  # the upstream's storage answers 503: copies must wait
    server = _gateway(tmp_path, sim, server_database()).start()
    key = server.create_key("crash")
    try:
        with client(server, key) as http:
            ids = [create(http, {"user_prompt": f"mirror crash {i}"}) for i in range(6)]
            wait_until(
                lambda: len([m for m in _mirror_rows(server).values() if m["attempts"] >= 1]) == 6,
                "every copy was tried and deferred",
                timeout=60,
            )
            states = {
                r["data"]["state"]
                for r in http.post("/luma/tasks", json={"ids": ids}).json()["data"]
            }
            assert states == {"processing"}, "completed before the video was kept"
        server.kill()
        mirrors = _mirror_rows(server)
        _wait_expired(mirrors)  # every link the gateway holds is now dead
        expired_before = sim_get(sim, "/_sim/media")["expired"]
        _media_mode(sim, "ok")
        server.start()
        with client(server, key) as http:
            done = wait_terminal(http, ids, 90, poll=0.2)
            assert {t["state"] for t in done.values()} == {"completed"}, done
            rows = task_rows(server)
            for task_id, task in done.items():
                assert _get(http, task["video"]["download_url"]) == _upstream_bytes(
                    sim, rows[task_id]
                )
        mirrors = _mirror_rows(server)
        assert {m["state"] for m in mirrors.values()} == {"done"}
        assert sim_get(sim, "/_sim/media")["expired"] > expired_before, "no stale link was tried"
        copied = [key for m in mirrors.values() for key in m["copied"].values() if key]
        # Every kept file was downloaded exactly once (the checks above add one per task).
        assert _served_total(sim) == len(copied) + len(ids)
        assert len(_kept_files(server)) == len(copied) == len(set(copied))
    finally:
        server.stop()


def test_an_upstream_that_lost_the_video_fails_the_task_with_the_reason_and_refunds(
    sim: SimProcess, tmp_path: Path, server_database: ServerDatabase
) -> None:
    _media_mode(sim, "gone")
    server = _gateway(tmp_path, sim, server_database()).start()
    try:
        with client(server, server.create_key("gone", "--credits", "1000")) as http:
            before = _usage(http)
            task_id = create(http, {"user_prompt": "mirror gone"})
            task = wait_terminal(http, [task_id], 60, poll=0.2)[task_id]
            assert task["state"] == "failed"
            assert "no longer gives this task's video" in task["failure_reason"], task
            assert "HTTP 404" in task["failure_reason"]
            ledger = db_rows(server, "SELECT kind FROM ledger WHERE task_id = ?", task_id)
            assert sorted(r["kind"] for r in ledger) == ["charge", "refund"]
            assert _usage(http) == before
        assert _mirror_rows(server)[task_id]["state"] == "failed"
    finally:
        server.stop()


def test_pass_through_kinds_keep_the_upstream_links(
    sim: SimProcess, tmp_path: Path, server_database: ServerDatabase
) -> None:
    server = _gateway(
        tmp_path, sim, server_database(), mirror_pass_through_kinds="luma-official,luma-web"
    ).start()
    try:
        with client(server, server.create_key("pass")) as http:
            task_id = create(http, {"user_prompt": "mirror pass through"})
            task = wait_terminal(http, [task_id], 60, poll=0.2)[task_id]
            assert task["state"] == "completed"
            assert task["video"]["url"].startswith(sim.base_url + "/media/"), task
        assert _mirror_rows(server) == {}
    finally:
        server.stop()
