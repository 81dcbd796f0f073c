"""Chaos on replicas (issue 11, "It must show"): three ``lumagate serve`` on one PostgreSQL
database and one media store, each with its own data dir, behind a balancer that
``LUMAGATE_PUBLIC_URL`` names; ``lumagate sim`` with two official keys at max-concurrency 3
and the sandbox for ``/pro``. 300 tasks are created round-robin across the replicas (some with
data-URI keyframes, some with an image uploaded through another replica), and one replica is
``kill -9``-ed mid-run and never restarted. Then:

- every task is terminal exactly once (completed, charged once, never refunded, and stays so);
- no generation was created upstream twice and each was created once (the sim's ledger);
- no account ran more than its limit at once (the sim's stats);
- every video, thumbnail and uploaded image the gateway hosts answers 200 with the same bytes
  from each surviving replica (uploads: the bytes sent), and every keyframe URL the sim
  received answers 200 with the image's bytes.

The media store is the ``media_place`` fixture's (tests/support/replicas.py): one bucket of a
moto S3 server the test starts.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import pytest

from tests.support.acceptance import data_uri, end_picture, png_bytes, start_picture
from tests.support.http import tls
from tests.support.replicas import Cluster, MediaPlace, cluster, object_store
from tests.support.s3 import S3Server, s3_server
from tests.support.servers import GatewayServer
from tests.support.upstreams import (
    FAST_GATEWAY,
    SimProcess,
    duplicate_prompts,
    ledger,
    ledger_prompt,
    sim_get,
    wait_terminal,
)

__all__ = ["s3_server"]  # the fixture, for pytest

pytestmark = [
    pytest.mark.slow,
    pytest.mark.long(102),
    pytest.mark.skipif(
        not os.environ.get("LUMAGATE_TEST_POSTGRES_URL"),
        reason="replicas share a PostgreSQL database: set LUMAGATE_TEST_POSTGRES_URL",
    ),
]

TASKS = 300
PRO_EVERY = 30  # every 30th task is /pro: the sandbox renders it (10 renders; issue 11 names
# no count, and each render costs a replica seconds of CPU the test is not about)
KEYFRAME_EVERY = 7  # a data-URI start frame
UPLOAD_EVERY = 25  # an image uploaded through one replica, used through the next
KILL_AFTER = 120  # the kill comes after this create (a /pro one)
LIMIT = 3
PREFIX = "chaos"
FINISH_SECONDS = 170.0
TIMELINE: dict[str, object] = {
    "queued_seconds": 0.05,
    "dreaming_seconds": 0.15,
    "creates_per_minute": 100_000,
    "web_null_video_rate": 0.0,
    "callback_duplicate_rate": 0.2,
    "seed": 11,
}


@pytest.fixture
def media_place(s3_server: S3Server) -> MediaPlace:
    """The one media store: a bucket of the S3 server the test starts (moto)."""
    return object_store(s3_server)


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[SimProcess]:
    media = tmp_path / "sim-media"
    media.mkdir()
    with SimProcess(tmp_path / "sim.log", media_dir=media, **TIMELINE) as started:
        yield started


@pytest.fixture
def replicas(
    tmp_path: Path, pg_url: str, sim: SimProcess, media_place: MediaPlace
) -> Iterator[Cluster]:
    def add_accounts(first: GatewayServer) -> None:
        api = sim.base_url + "/dream-machine/v1"
        for name, extra in (("luma-chaos-a", []), ("luma-chaos-b", ["--no-callbacks"])):
            first.cli_in_process(
                *("accounts", "add", "luma-official", "--api-key", name, "--base-url", api),
                *("--name", name, "--max-concurrency", str(LIMIT), "--channels", "default,vip"),
                *extra,
            )

    settings = {**FAST_GATEWAY, "sandbox_enabled": "true", "sandbox_concurrency": "2"}
    with cluster(
        tmp_path, pg_url, 3, media_place, before_start=add_accounts, **settings
    ) as started:
        yield started


@dataclass
class Run:
    """What the test sent: task ids, images by task, uploads and their bytes."""

    ids: list[str] = field(default_factory=list)
    pro: set[str] = field(default_factory=set)
    images: dict[bytes, bytes] = field(default_factory=dict)  # PNG bytes by their own bytes
    uploads: dict[str, bytes] = field(default_factory=dict)  # public_url -> bytes sent


def _picture(index: int) -> bytes:
    """A distinct PNG per index (a pixel differs), so a mixed-up image shows."""
    base = start_picture((64, 36)) if index % 2 else end_picture((64, 36))
    base.putpixel((index % 64, 0), (index % 256, 7, 7))
    return png_bytes(base)


def _http(url: str, key: str) -> httpx.Client:
    return httpx.Client(
        base_url=url,
        headers={"Authorization": f"Bearer {key}"},
        timeout=30.0,
        trust_env=False,
        verify=tls(),
    )


def _body(index: int, run: Run, uploader: httpx.Client) -> dict[str, Any]:
    body: dict[str, Any] = {
        "user_prompt": f"{PREFIX} task {index:03d}",
        "resolution": "540p",
        "aspect_ratio": "1:1",  # small sandbox renders: the test is about replicas, not CPU
    }
    if index % KEYFRAME_EVERY == 0:
        picture = _picture(index)
        run.images[picture] = picture
        body["image_url"] = data_uri(picture)
    elif index % UPLOAD_EVERY == 1:
        picture = _picture(index)
        answer = uploader.post("/luma/generations/file_upload", json={"url": data_uri(picture)})
        assert answer.status_code == 200, answer.text
        url = answer.json()["public_url"]
        run.uploads[url] = picture
        run.images[picture] = picture
        body["image_url"] = url
    return body


def _create_all(replicas: Cluster, key: str) -> tuple[Run, GatewayServer, str]:
    """300 creates, round-robin over the live replicas; after the ``KILL_AFTER``-th (a /pro
    one) kill -9 the replica rendering a sandbox job, mid-render.

    One client per replica for the whole run: a new ``httpx.Client`` loads certifi's CA bundle
    (~30 ms of CPU), and two per create made this loop the test process's largest cost."""
    run = Run()
    killed: tuple[GatewayServer, str] | None = None
    with ExitStack() as clients:
        http_of = {
            s.base_url: clients.enter_context(_http(s.base_url, key)) for s in replicas.servers
        }
        for index in range(TASKS):
            alive = replicas.alive()
            target, uploader = alive[index % len(alive)], alive[(index + 1) % len(alive)]
            pro = index % PRO_EVERY == 0
            path = "/pro/luma/generations" if pro else "/luma/generations"
            body = _body(index, run, http_of[uploader.base_url])
            answer = http_of[target.base_url].post(path, json=body)
            assert answer.status_code == 200, answer.text
            run.ids.append(answer.json()["id"])
            if pro:
                run.pro.add(run.ids[-1])
            if index == KILL_AFTER:
                killed = _kill_a_renderer(replicas)
    assert killed is not None
    return run, *killed


def _kill_a_renderer(replicas: Cluster) -> tuple[GatewayServer, str]:
    """kill -9 the replica holding a sandbox render's lease; the replica and the job."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        rows = replicas.rows("SELECT id, owner FROM render_jobs WHERE state = 'rendering'")
        if rows and rows[0]["owner"]:
            victim = replicas.by_owner(str(rows[0]["owner"]))
            victim.kill()
            return victim, str(rows[0]["id"])
        time.sleep(0.05)
    raise AssertionError("no sandbox render was running to kill its replica in")


def _assert_terminal_once(replicas: Cluster, run: Run, http: httpx.Client) -> dict[str, Any]:
    done = wait_terminal(http, run.ids, FINISH_SECONDS, poll=0.5)
    states = Counter(t["state"] for t in done.values())
    failed = {i: t["failure_reason"] for i, t in done.items() if t["state"] != "completed"}
    assert states["completed"] == TASKS, failed
    entries = replicas.rows("SELECT task_id, kind FROM ledger WHERE task_id IS NOT NULL")
    kinds = Counter((str(e["task_id"]), str(e["kind"])) for e in entries)
    assert all(kinds[(task_id, "charge")] == 1 for task_id in run.ids)
    assert not [k for k in kinds if k[1] == "refund"], "a completed task was refunded"
    again = wait_terminal(http, run.ids, 10, poll=0.1)
    assert {i: t["state"] for i, t in again.items()} == {i: t["state"] for i, t in done.items()}
    return done


def _assert_upstream_once(sim: SimProcess, replicas: Cluster, run: Run) -> list[dict[str, Any]]:
    entries = [e for e in ledger(sim) if ledger_prompt(e).startswith(PREFIX)]
    assert duplicate_prompts(entries) == {}, "a task was created upstream twice"
    assert len(entries) == TASKS - len(run.pro)
    peaks = {c: s["max_running"] for c, s in sim_get(sim, "/_sim/stats").items()}
    assert set(peaks) >= {"luma-chaos-a", "luma-chaos-b"}, peaks
    assert all(peak <= LIMIT for peak in peaks.values()), peaks
    renders = replicas.rows("SELECT id, renders, state FROM render_jobs")
    assert {r["id"] for r in renders} == {f"sbx-{i}" for i in run.pro}
    assert all(r["renders"] == 1 and r["state"] == "completed" for r in renders), renders
    return entries


def _gateway_urls(done: dict[str, Any], run: Run, public: str) -> dict[str, bytes | None]:
    """Every link the gateway hosts, with the bytes sent for it (None: a render's output)."""
    urls: dict[str, bytes | None] = dict(run.uploads)
    for task in done.values():
        for name in ("video", "thumbnail"):
            found = task.get(name) or {}
            for url in (found.get("url"), found.get("download_url")):
                if isinstance(url, str) and url.startswith(public + "/files/"):
                    urls[url] = None
    return urls


def _assert_media_everywhere(
    replicas: Cluster, done: dict[str, Any], run: Run, media: MediaPlace
) -> None:
    """Each hosted link answers 200 from every surviving replica, with the bytes the media
    store keeps (read past the gateway), which for an upload are the bytes sent."""
    public = replicas.balancer.url
    urls = _gateway_urls(done, run, public)
    assert len(urls) >= 2 * len(run.pro) + len(run.uploads)
    survivors = replicas.alive()
    assert len(survivors) == 2
    with httpx.Client(timeout=30.0, trust_env=False) as http:
        for url, sent in urls.items():
            key = unquote(url[len(public + "/files/") :].partition("?")[0])
            kept = media.stored(key)
            assert kept[4:8] == b"ftyp" or kept[:2] == b"\xff\xd8" or kept == sent, url
            if sent is not None:
                assert kept == sent, f"{url} keeps other bytes than were uploaded"
            for replica in survivors:
                answer = http.get(replica.base_url + url[len(public) :])
                assert answer.status_code == 200, (url, replica.base_url, answer.status_code)
                assert answer.content == kept, f"{replica.base_url} answers {url} wrongly"


def _assert_keyframes_fetchable(entries: list[dict[str, Any]], run: Run) -> None:
    urls = []
    for entry in entries:
        frames = entry["request"].get("keyframes") or {}
        urls += [f["url"] for f in frames.values() if isinstance(f, dict) and f.get("url")]
    assert len(urls) >= (TASKS - len(run.pro)) // KEYFRAME_EVERY
    with httpx.Client(timeout=30.0, trust_env=False) as http:
        for url in urls:
            answer = http.get(url)
            assert answer.status_code == 200, url
            assert answer.content in run.images, f"{url} is none of the images sent"


def test_three_replicas_one_killed_mid_run(
    sim: SimProcess, replicas: Cluster, media_place: MediaPlace
) -> None:
    key = replicas.servers[0].create_key("chaos")
    run, victim, held = _create_all(replicas, key)
    assert victim.process is None and len(replicas.alive()) == 2
    with _http(replicas.balancer.url, key) as http:
        done = _assert_terminal_once(replicas, run, http)
    entries = _assert_upstream_once(sim, replicas, run)
    _assert_media_everywhere(replicas, done, run, media_place)
    _assert_keyframes_fetchable(entries, run)
    # the render the victim held when it died was finished by a survivor, once
    if held not in _renders(victim):
        assert sum(_renders(s).count(held) for s in replicas.alive()) == 1


def _renders(server: GatewayServer) -> list[str]:
    log = server.data_dir / "sandbox" / "renders.log"
    return log.read_text().split() if log.exists() else []
