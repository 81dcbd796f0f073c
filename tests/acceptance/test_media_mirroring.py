"""Finished videos outlive the upstream's links: ``lumagate serve`` + ``lumagate sim`` with
``--media-ttl-seconds``, both as subprocesses, on SQLite and on PostgreSQL.

- every dialect (reseller, official, OpenAI, new-api) gives a link that still downloads the same
  bytes after every upstream link expired;
- ``kill -9`` of the gateway while copies are pending (the sim's storage answers 503), the
  upstream links expire meanwhile, restart: every copy completes through fresh links from
  ``download_url``, and no file is downloaded twice;
- an upstream that lost the files fails the task with the reason, and refunds it;
- a kind listed in ``LUMAGATE_MIRROR_PASS_THROUGH_KINDS`` keeps the upstream's links;
- a video over ``LUMAGATE_MIRROR_MAX_BYTES`` fails its task at once (one GET), refunded.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.support.databases import ServerDatabase
from tests.support.mirroring import (
    create_in_every_dialect,
    dialect_video,
    get_ok,
    kept_files,
    media_mode,
    mirror_gateway,
    mirror_rows,
    served_total,
    sim,
    upstream_bytes,
    usage,
    wait_expired,
)
from tests.support.upstreams import (
    SimProcess,
    client,
    create,
    db_rows,
    sim_get,
    task_rows,
    wait_terminal,
)
from tests.support.waiting import wait_until

REFUNDS = "SELECT id FROM ledger WHERE task_id = ? AND kind = 'refund'"

__all__ = ["sim"]

pytestmark = pytest.mark.slow


def test_every_dialect_downloads_the_same_video_after_the_upstream_links_expired(
    sim: SimProcess, tmp_path: Path, server_database: ServerDatabase
) -> None:
    server = mirror_gateway(tmp_path, sim, server_database()).start()
    try:
        with client(server, server.create_key("mirror")) as http:
            ids = create_in_every_dialect(http)
            done = wait_terminal(http, ids.values(), 90, poll=0.2)
            assert {t["state"] for t in done.values()} == {"completed"}, done
            for task in done.values():  # the gateway's links, not the upstream's
                assert task["video"]["url"].startswith(server.base_url + "/files/mirrors/")
                assert task["thumbnail"]["url"].startswith(server.base_url + "/files/mirrors/")
            mirrors, rows = mirror_rows(server), task_rows(server)
            assert set(mirrors) == set(ids.values())
            assert {m["state"] for m in mirrors.values()} == {"done"}
            wait_expired(mirrors)
            first = next(iter(mirrors.values()))["source"]["video"]
            assert httpx.get(first).status_code == 403, "the sim's link did not expire"
            for dialect, task_id in ids.items():
                kept = dialect_video(http, dialect, task_id)
                assert kept == upstream_bytes(sim, rows[task_id]), dialect
    finally:
        server.stop()


def test_kill_9_while_copies_wait_then_restart_completes_each_copy_once_with_fresh_links(
    sim: SimProcess, tmp_path: Path, server_database: ServerDatabase
) -> None:
    media_mode(sim, "unavailable")  # the upstream's storage answers 503: copies must wait
    server = mirror_gateway(tmp_path, sim, server_database()).start()
    key = server.create_key("crash")
    try:
        with client(server, key) as http:
            ids = [create(http, {"user_prompt": f"mirror crash {i}"}) for i in range(6)]
            wait_until(
                lambda: len([m for m in mirror_rows(server).values() if m["attempts"] >= 1]) == 6,
                "every copy was tried and deferred",
                timeout=60,
            )
            states = {
                r["data"]["state"]
                for r in http.post("/luma/tasks", json={"ids": ids}).json()["data"]
            }
            assert states == {"processing"}, "completed before the video was kept"
        server.kill()
        mirrors = mirror_rows(server)
        wait_expired(mirrors)  # every link the gateway holds is now dead
        expired_before = sim_get(sim, "/_sim/media")["expired"]
        media_mode(sim, "ok")
        server.start()
        with client(server, key) as http:
            done = wait_terminal(http, ids, 90, poll=0.2)
            assert {t["state"] for t in done.values()} == {"completed"}, done
            rows = task_rows(server)
            for task_id, task in done.items():
                assert get_ok(http, task["video"]["download_url"]) == upstream_bytes(
                    sim, rows[task_id]
                )
        mirrors = mirror_rows(server)
        assert {m["state"] for m in mirrors.values()} == {"done"}
        assert sim_get(sim, "/_sim/media")["expired"] > expired_before, "no stale link was tried"
        copied = [key for m in mirrors.values() for key in m["copied"].values() if key]
        # Every kept file was downloaded exactly once (the checks above add one per task).
        assert served_total(sim) == len(copied) + len(ids)
        assert len(kept_files(server)) == len(copied) == len(set(copied))
    finally:
        server.stop()


def test_an_upstream_that_lost_the_video_fails_the_task_with_the_reason_and_refunds(
    sim: SimProcess, tmp_path: Path, server_database: ServerDatabase
) -> None:
    media_mode(sim, "gone")
    server = mirror_gateway(tmp_path, sim, server_database()).start()
    try:
        with client(server, server.create_key("gone", "--credits", "1000")) as http:
            before = usage(http)
            task_id = create(http, {"user_prompt": "mirror gone"})
            task = wait_terminal(http, [task_id], 60, poll=0.2)[task_id]
            assert task["state"] == "failed"
            assert "no longer gives this task's video" in task["failure_reason"], task
            assert "HTTP 404" in task["failure_reason"]
            # The refund follows the failure's event (the billing listener), so a client can
            # see `failed` a moment before it: wait for it, then check nothing else was written.
            wait_until(lambda: db_rows(server, REFUNDS, task_id), "the failed task's refund")
            ledger = db_rows(server, "SELECT kind FROM ledger WHERE task_id = ?", task_id)
            assert sorted(r["kind"] for r in ledger) == ["charge", "refund"]
            assert usage(http) == before
        assert mirror_rows(server)[task_id]["state"] == "failed"
    finally:
        server.stop()


def test_pass_through_kinds_keep_the_upstream_links(
    sim: SimProcess, tmp_path: Path, server_database: ServerDatabase
) -> None:
    server = mirror_gateway(
        tmp_path, sim, server_database(), mirror_pass_through_kinds="luma-official,luma-web"
    ).start()
    try:
        with client(server, server.create_key("pass")) as http:
            task_id = create(http, {"user_prompt": "mirror pass through"})
            task = wait_terminal(http, [task_id], 60, poll=0.2)[task_id]
            assert task["state"] == "completed"
            assert task["video"]["url"].startswith(sim.base_url + "/media/"), task
        assert mirror_rows(server) == {}
    finally:
        server.stop()


def test_a_video_over_the_size_limit_fails_at_once_and_refunds(
    sim: SimProcess, tmp_path: Path, server_database: ServerDatabase
) -> None:
    server = mirror_gateway(tmp_path, sim, server_database(), mirror_max_bytes="2000").start()
    try:
        with client(server, server.create_key("big", "--credits", "1000")) as http:
            before = usage(http)
            task_id = create(http, {"user_prompt": "mirror too large"})
            task = wait_terminal(http, [task_id], 60, poll=0.2)[task_id]
            assert task["state"] == "failed" and task["video"] is None, task
            assert task["failure_reason"].startswith(
                "The upstream's video is too large to keep (the limit, "
                "LUMAGATE_MIRROR_MAX_BYTES, is 2000 bytes)"
            ), task
            # The refund follows the failure's event (the billing listener), so a client can
            # see `failed` a moment before it: wait for it, then check nothing else was written.
            wait_until(lambda: db_rows(server, REFUNDS, task_id), "the failed task's refund")
            ledger = db_rows(server, "SELECT kind FROM ledger WHERE task_id = ?", task_id)
            assert sorted(r["kind"] for r in ledger) == ["charge", "refund"]
            assert usage(http) == before
        job = mirror_rows(server)[task_id]
        assert job["state"] == "failed" and job["attempts"] == 0, job  # never retried
        video = [name for name in sim_get(sim, "/_sim/media")["served"] if name.endswith(".mp4")]
        assert sim_get(sim, "/_sim/media")["served"][video[0]] == 1
    finally:
        server.stop()
