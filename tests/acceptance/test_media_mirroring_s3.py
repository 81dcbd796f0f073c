"""Keeping finished videos in S3: ``lumagate serve`` with ``LUMAGATE_MEDIA_URL=s3://…`` on moto's
server (tests/support/s3.py) and ``lumagate sim`` whose media links expire, on SQLite and on
PostgreSQL.

- tasks made in every dialect complete on the sim's official and web accounts; their video,
  thumbnail and (web) last frame are objects in the bucket, and nothing is under the data dir;
- after every upstream link expired, each dialect serves the same bytes as the upstream;
- PostgreSQL only (SQLite is one process's file): a second gateway process on the same database
  and bucket, with a data dir of its own, serves the same bytes in every dialect.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet

from tests.support.databases import ServerDatabase
from tests.support.mirroring import (
    FAST_MIRROR,
    create_in_every_dialect,
    dialect_video,
    get_ok,
    mirror_gateway,
    mirror_rows,
    sim,
    upstream_bytes,
    wait_expired,
)
from tests.support.s3 import S3Server, s3_server
from tests.support.servers import GatewayServer, server_env
from tests.support.upstreams import (
    FAST_GATEWAY,
    SimProcess,
    client,
    create,
    task_rows,
    wait_terminal,
)

__all__ = ["s3_server", "sim"]

pytestmark = pytest.mark.slow


def _bucket_objects(s3: S3Server, bucket: str) -> dict[str, bytes]:
    """Every object under the gateway's prefix, straight from the storage."""
    http = s3.client()
    listed = http.list_objects_v2(Bucket=bucket, Prefix="media/").get("Contents", [])
    return {
        item["Key"].removeprefix("media/"): http.get_object(Bucket=bucket, Key=item["Key"])[
            "Body"
        ].read()
        for item in listed
    }


def _local_media(server: GatewayServer) -> list[Path]:
    folder = server.data_dir / "media"
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def _every_dialect_serves(
    http: httpx.Client, ids: dict[str, str], expected: dict[str, bytes], base_url: str
) -> None:
    for dialect, task_id in ids.items():
        assert dialect_video(http, dialect, task_id) == expected[task_id], dialect
        body = http.get(f"/luma/generations/{task_id}").json()
        assert body["video"]["url"].startswith(base_url + "/files/mirrors/"), body


def _kept(job: dict[str, Any]) -> dict[str, str]:
    return {asset: key for asset, key in job["copied"].items() if key}


def test_kept_videos_live_in_s3_and_every_gateway_serves_them(
    sim: SimProcess,
    tmp_path: Path,
    backend: str,
    server_database: ServerDatabase,
    s3_server: S3Server,
) -> None:
    bucket = s3_server.new_bucket()
    shared = {  # what replicas share: the database, the bucket and the keys
        **server_database(),
        **s3_server.gateway_settings(bucket),
        "secret_key": Fernet.generate_key().decode(),
        "admin_key": f"mirror-s3-admin-{uuid.uuid4().hex}",
    }
    server = mirror_gateway(tmp_path, sim, shared)
    server.env.update(S3Server.gateway_env())
    server.start()
    try:
        key = server.create_key("s3")
        with client(server, key) as http:
            ids = create_in_every_dialect(http)
            ids["reseller-2"] = create(http, {"user_prompt": "reseller: a grey heron"})
            done = wait_terminal(http, ids.values(), 90, poll=0.2)
            assert {t["state"] for t in done.values()} == {"completed"}, done
            mirrors, rows = mirror_rows(server), task_rows(server)
            assert {m["state"] for m in mirrors.values()} == {"done"}
            objects = _bucket_objects(s3_server, bucket)
            kept = {key for job in mirrors.values() for key in _kept(job).values()}
            assert set(objects) == kept
            for task_id, job in mirrors.items():
                wanted = {"video", "thumbnail"}
                if rows[task_id]["account"] == "web":
                    wanted.add("last_frame")
                assert wanted <= set(_kept(job)), (rows[task_id]["account"], job)
                thumbnail = get_ok(http, done[task_id]["thumbnail"]["url"])
                assert thumbnail == objects[_kept(job)["thumbnail"]]
            assert _local_media(server) == [], "a kept file landed in the data dir"
            wait_expired(mirrors)
            expected = {task_id: upstream_bytes(sim, rows[task_id]) for task_id in ids.values()}
            for task_id, job in mirrors.items():
                assert objects[_kept(job)["video"]] == expected[task_id]
            _every_dialect_serves(http, ids, expected, server.base_url)
        if backend == "sqlite":
            return  # one process's database file: a second replica needs PostgreSQL
        second_dir = tmp_path / "gw-2"
        second_dir.mkdir()
        env = server_env(second_dir, **FAST_GATEWAY, **FAST_MIRROR, **shared)
        second = GatewayServer(second_dir, env | S3Server.gateway_env()).start()
        try:
            with client(second, key) as http_b:
                _every_dialect_serves(http_b, ids, expected, second.base_url)
            assert _local_media(second) == []
        finally:
            second.stop()
    finally:
        server.stop()
