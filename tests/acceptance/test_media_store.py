"""The media store behind real gateways, on the data dir ("local") and on S3 ("s3").

S3 is moto's server on loopback (tests/support/s3.py). One gateway renders sandbox videos
(one from a data-URI keyframe) and takes an upload; then:

- the media are in the chosen store (with S3, nothing under the gateway's data dir);
- ``/files`` serves them with byte ranges through the gateway (proxy mode);
- with S3, a second gateway process with another data dir, on the same database and bucket,
  serves every media URL, here by redirect to presigned URLs (``LUMAGATE_MEDIA_SERVE=redirect``);
- ``lumagate media gc`` with a 1-day retention removes exactly the media older than a day (one
  task's files and the upload are aged by two days), and that task answers ``video: null`` with
  the documented reason in every dialect, while the other task keeps its video.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from lumagate.domain.task import MEDIA_REMOVED_REASON
from tests.support.acceptance import (
    client,
    data_uri,
    decode_mp4,
    mad,
    png_bytes,
    start_picture,
    wait_completed,
)
from tests.support.databases import ServerDatabase, pg_rows
from tests.support.s3 import S3Server, age_objects, s3_server
from tests.support.servers import GatewayServer, server_env

__all__ = ["s3_server"]

pytestmark = pytest.mark.slow

SMALL = {"aspect_ratio": "1:1", "resolution": "540p"}


@dataclass
class Env:
    kind: str
    server: GatewayServer
    key: str
    http: httpx.Client
    settings: dict[str, str]
    env: dict[str, str]
    s3: S3Server | None = None
    bucket: str = ""
    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)
    upload_url: str = ""

    def keys(self) -> set[str]:
        """Every key in the media store, straight from the storage."""
        if self.s3 is not None:
            listed = self.s3.client().list_objects_v2(Bucket=self.bucket, Prefix="media/")
            return {item["Key"].removeprefix("media/") for item in listed.get("Contents", [])}
        root = self.server.data_dir / "media"
        return {
            p.relative_to(root).as_posix()
            for p in root.rglob("*")
            if p.is_file() and not p.name.startswith(".")
        }


@pytest.fixture(scope="module", params=["local", "s3"])
def media_kind(request: pytest.FixtureRequest) -> str:
    kind: str = request.param
    return kind


def _gateway(data_dir: Path, settings: dict[str, str], extra_env: dict[str, str]) -> GatewayServer:
    data_dir.mkdir(parents=True, exist_ok=True)
    env = server_env(data_dir, refresh_interval_seconds="0.5", **settings) | extra_env
    return GatewayServer(data_dir, env).start()


@pytest.fixture(scope="module")
def env(
    request: pytest.FixtureRequest,
    media_kind: str,
    tmp_path_factory: pytest.TempPathFactory,
    server_database: ServerDatabase,
) -> Iterator[Env]:
    settings = server_database()
    s3: S3Server | None = None
    bucket, extra_env = "", {}
    if media_kind == "s3":
        s3 = request.getfixturevalue("s3_server")
        bucket = s3.new_bucket()
        settings |= s3.gateway_settings(bucket)
        extra_env = s3.gateway_env()
    server = _gateway(tmp_path_factory.mktemp(f"media-{media_kind}") / "a", settings, extra_env)
    try:
        key = server.create_key("media")
        with client(server.base_url, key) as http:
            e = Env(media_kind, server, key, http, settings, server.env, s3, bucket)
            _make_media(e)
            yield e
    finally:
        server.stop()


def _make_media(e: Env) -> None:
    keyframe = data_uri(png_bytes(start_picture((540, 540))))
    bodies = {
        "old": {"user_prompt": "an old lighthouse", "image_url": keyframe, **SMALL},
        "new": {"user_prompt": "a new lighthouse", **SMALL},
    }
    ids = {}
    for name, body in bodies.items():
        response = e.http.post("/luma/generations", json=body)
        assert response.status_code == 200, response.text
        ids[name] = response.json()["id"]
    upload = e.http.post("/luma/generations/file_upload", json={"url": keyframe})
    assert upload.status_code == 200, upload.text
    e.upload_url = upload.json()["public_url"]
    for name, task_id in ids.items():
        e.tasks[name] = wait_completed(e.http, task_id)
    extend = e.http.post(f"/luma/generations/{ids['new']}/extend", json={"user_prompt": "more"})
    assert extend.status_code == 200, extend.text
    e.tasks["extended"] = wait_completed(e.http, extend.json()["id"])


def _path(url: str) -> str:
    parsed = httpx.URL(url)
    return parsed.raw_path.decode()


def _task_keys(task: dict[str, Any]) -> set[str]:
    urls = [task["video"]["url"], task["thumbnail"]["url"], task["last_frame"]["url"]]
    return {_path(url).split("?")[0].removeprefix("/files/") for url in urls}


# -- where the media live, and serving through the gateway -----------------------------------
def test_media_are_in_the_chosen_store(env: Env) -> None:
    stored = env.keys()
    for task in env.tasks.values():
        assert _task_keys(task) <= stored
    assert any(k.startswith("uploads/") for k in stored)
    local = {p for p in (env.server.data_dir / "media").rglob("*") if p.is_file()}
    if env.kind == "s3":
        assert local == set(), "with S3 the data dir keeps no media"
    else:
        assert len(local) >= len(stored)


def test_an_extend_continues_the_stored_video(env: Env) -> None:
    """The sandbox reads the source video back from the store (from S3: downloaded first)."""
    source = decode_mp4(env.http.get(env.tasks["new"]["video"]["url"]).content)
    extended = decode_mp4(env.http.get(env.tasks["extended"]["video"]["url"]).content)
    assert (extended.width, extended.height) == (source.width, source.height)
    assert mad(extended.first, source.last) < 12.0


def test_gateway_streams_media_with_ranges(env: Env) -> None:
    url = env.tasks["new"]["video"]["url"]
    whole = env.http.get(url)
    assert whole.status_code == 200
    assert whole.headers["content-type"] == "video/mp4"
    assert whole.content[4:8] == b"ftyp"
    size = len(whole.content)
    part = env.http.get(url, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 100-199/{size}"
    assert part.content == whole.content[100:200]
    past = env.http.get(url, headers={"Range": f"bytes={size}-"})
    assert past.status_code == 416
    assert past.headers["content-range"] == f"bytes */{size}"
    upload = env.http.get(env.upload_url)
    assert upload.status_code == 200 and upload.headers["content-type"] == "image/png"


def test_a_second_gateway_serves_every_media_url(
    env: Env, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """With S3 a second replica serves every URL (by redirect here); with the data dir it
    cannot, and says 404, which is why replicas need shared storage (docs/media.md)."""
    settings = dict(env.settings, media_serve="redirect", sandbox_enabled="false")
    if "database_url" not in settings:  # SQLite: the first gateway's database file
        settings["database_url"] = f"sqlite+aiosqlite:///{env.server.data_dir / 'lumagate.db'}"
    extra_env = env.s3.gateway_env() if env.s3 is not None else {}
    other = _gateway(tmp_path_factory.mktemp("media-b") / "b", settings, extra_env)
    try:
        with client(other.base_url, env.key) as http_b:
            if env.kind == "local":
                url_b = http_b.get(f"/luma/generations/{env.tasks['new']['id']}").json()
                assert http_b.get(url_b["video"]["url"]).status_code == 404
                return
            _served_by(http_b, other, env)
        assert {p for p in (other.data_dir / "media").rglob("*") if p.is_file()} == set()
    finally:
        other.stop()


def _served_by(http_b: httpx.Client, other: GatewayServer, env: Env) -> None:
    for name, task in env.tasks.items():
        seen_by_b = http_b.get(f"/luma/generations/{task['id']}").json()
        for part in ("video", "thumbnail", "last_frame"):
            url_b = seen_by_b[part]["url"]
            assert url_b.startswith(other.base_url + "/files/"), url_b
            redirect = http_b.get(url_b, follow_redirects=False)
            assert redirect.status_code == 307, f"{name} {part}: {redirect.text}"
            assert "X-Amz-Signature=" in redirect.headers["location"]
            direct = httpx.get(url_b, follow_redirects=True, timeout=30)
            assert direct.content == env.http.get(task[part]["url"]).content
        ranged = httpx.get(
            seen_by_b["video"]["url"], headers={"Range": "bytes=0-9"}, follow_redirects=True
        )
        assert ranged.status_code == 206 and len(ranged.content) == 10
    fetched = httpx.get(other.base_url + _path(env.upload_url), follow_redirects=True, timeout=30)
    assert fetched.status_code == 200
    assert fetched.content == env.http.get(env.upload_url).content


# -- retention (last: it removes media) -------------------------------------------------------
def _age_task(env: Env, task_id: str, days: float) -> None:
    url = env.settings.get("database_url")
    if url is None:
        with sqlite3.connect(env.server.data_dir / "lumagate.db", timeout=10) as db:
            db.execute(
                "UPDATE tasks SET finished_at = datetime(finished_at, ?) WHERE id = ?",
                (f"-{days} days", task_id),
            )
        return
    interval = f"UPDATE tasks SET finished_at = finished_at - interval '{days} days'"
    pg_rows(url, interval + " WHERE id = ? RETURNING id", task_id)


def _age_keys(env: Env, keys: set[str], days: float) -> None:
    if env.s3 is not None:
        age_objects(env.bucket, {f"media/{k}" for k in keys}, timedelta(days=days))
        return
    then = time.time() - days * 86400
    for key in keys:
        os.utime(env.server.data_dir / "media" / key, (then, then))


def _gc(env: Env, *args: str) -> str:
    result = env.server.cli("media", "gc", "--retention-days", "1", *args)
    return result.stdout


def test_gc_removes_exactly_the_older_media(env: Env) -> None:
    old, new = env.tasks["old"], env.tasks["new"]
    upload_key = _path(env.upload_url).split("?")[0].removeprefix("/files/")
    aged = _task_keys(old) | {upload_key}
    _age_keys(env, aged, 2)
    _age_task(env, old["id"], 2)
    before = env.keys()

    dry = _gc(env, "--dry-run")
    assert env.keys() == before, "a dry run removes nothing"
    assert f"task {old['id']}: media would remove" in dry
    assert {line.split(" ", 2)[2] for line in dry.splitlines() if " remove " in line} == aged

    done = _gc(env)
    assert {line.split(" ", 1)[1] for line in done.splitlines() if line.startswith("removed ")} == (
        aged
    )
    assert f"task {old['id']}: media removed" in done
    assert env.keys() == before - aged
    assert _task_keys(new) <= env.keys()
    assert "task " not in _gc(env), "a second sweep finds nothing more"

    _assert_removed_everywhere(env.http, old["id"])
    still = env.http.get(f"/luma/generations/{new['id']}").json()
    assert still["video"] is not None and still["failure_reason"] is None
    assert env.http.get(still["video"]["url"]).status_code == 200


def _assert_removed_everywhere(http: httpx.Client, task_id: str) -> None:
    flat = http.get(f"/luma/generations/{task_id}").json()
    assert flat["state"] == "completed"
    assert (flat["video"], flat["thumbnail"], flat["last_frame"]) == (None, None, None)
    assert flat["failure_reason"] == MEDIA_REMOVED_REASON
    official = http.get(f"/dream-machine/v1/generations/{task_id}").json()
    assert official["assets"]["video"] is None
    assert official["failure_reason"] == MEDIA_REMOVED_REASON
    record = http.get(f"/v1/video/generations/{task_id}").json()["data"]
    assert record["fail_reason"] == MEDIA_REMOVED_REASON and record["data"]["video"] is None
    video = http.get(f"/v1/videos/{task_id}").json()
    assert video["status"] == "completed"
    assert video["error"] == {"code": "media_removed", "message": MEDIA_REMOVED_REASON}
    assert isinstance(video["expires_at"], int)
    content = http.get(f"/v1/videos/{task_id}/content")
    assert content.status_code == 410, content.text
    link = http.get(f"/luma/generations/{task_id}/download_video_url")
    assert link.status_code == 410, link.text


def test_gc_without_a_retention_refuses(env: Env) -> None:
    result = env.server.cli("media", "gc", check=False)
    assert result.returncode == 2
    assert "LUMAGATE_MEDIA_RETENTION_DAYS" in result.stderr
    assert _task_keys(env.tasks["new"]) <= env.keys()


def test_background_sweep_removes_aged_media(env: Env) -> None:
    """With LUMAGATE_MEDIA_RETENTION_DAYS the server sweeps by itself (no CLI)."""
    new = env.tasks["new"]
    _age_keys(env, _task_keys(new), 3)
    _age_task(env, new["id"], 3)
    env.server.stop()
    env.server.env.update(
        LUMAGATE_MEDIA_RETENTION_DAYS="1", LUMAGATE_MEDIA_RETENTION_SWEEP_SECONDS="0.2"
    )
    env.server.start()
    deadline = time.monotonic() + 60
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        body = env.http.get(f"/luma/generations/{new['id']}").json()
        if body["failure_reason"] is not None:
            break
        time.sleep(0.2)
    assert body["failure_reason"] == MEDIA_REMOVED_REASON, body
    assert body["video"] is None
    assert not (_task_keys(new) & env.keys())
