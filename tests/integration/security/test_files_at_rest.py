"""Files at rest: owner-only whatever the umask, and media links that are capabilities.

A real ``lumagate serve`` started under umask 000 renders one sandbox video. Then the database,
its WAL files, the secret files and every media file are 0600 and the folders 0700; the
video's link holds a random folder, and the link a stranger could build from the task id alone
(``/files/videos/sbx-<task id>/video.mp4``) answers 404. A job recorded before the rule keeps
its ``videos/<generation id>`` folder (old links keep working).
"""

from __future__ import annotations

import json
import os
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from lumagate.domain.accounts import AccountHandle
from lumagate.media.store import MediaStore
from lumagate.providers.sandbox.provider import SandboxProvider
from tests.support.servers import GatewayServer, server_env

pytestmark = pytest.mark.slow


@contextmanager
def _umask(mask: int) -> Iterator[None]:
    previous = os.umask(mask)
    try:
        yield
    finally:
        os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_everything_on_disk_is_owner_only_and_links_are_not_guessable(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    server = GatewayServer(data_dir, server_env(data_dir, refresh_interval_seconds="0.3"))
    with _umask(0):
        key = server.create_key("at-rest")
        server.start()
    try:
        with httpx.Client(
            base_url=server.base_url, headers={"Authorization": f"Bearer {key}"}, trust_env=False
        ) as http:
            created = http.post("/luma/generations", json={"user_prompt": "a lantern at night"})
            task_id = created.json()["id"]
            deadline = time.monotonic() + 120
            task = created.json()
            while task["state"] not in ("completed", "failed") and time.monotonic() < deadline:
                time.sleep(0.3)
                task = http.get(f"/luma/generations/{task_id}").json()
            assert task["state"] == "completed", task
            video_url = task["video"]["url"]
            assert task_id not in video_url
            anonymous = httpx.Client(base_url=server.base_url, trust_env=False)
            assert anonymous.get(video_url).status_code == 200  # the link itself is the key
            guessed = f"/files/videos/sbx-{task_id}/video.mp4"
            assert anonymous.get(guessed).status_code == 404
            assert anonymous.head(guessed).status_code == 404
            anonymous.close()
            for name in ("lumagate.db", "lumagate.db-wal", "lumagate.db-shm"):
                assert _mode(data_dir / name) == 0o600, name  # WAL files exist while serving
    finally:
        server.stop()
    for name in ("lumagate.db", "secret.key", "admin.key", "lumagate.lock"):
        assert _mode(data_dir / name) == 0o600, name
    assert _mode(data_dir) == 0o700
    media = data_dir / "media"
    for path in [media, *media.rglob("*")]:
        expected = 0o700 if path.is_dir() else 0o600
        assert _mode(path) == expected, (path, oct(_mode(path)))
    assert len([p for p in media.rglob("*.mp4")]) == 1


async def test_a_job_recorded_before_random_folders_keeps_its_old_folder(tmp_path: Path) -> None:
    media = MediaStore(tmp_path / "media", "http://127.0.0.1:9")
    sandbox = SandboxProvider(tmp_path / "sandbox", media)
    old = "sbx-00000000-0000-0000-0000-000000000001"
    (tmp_path / "sandbox" / old).mkdir(parents=True)
    (tmp_path / "sandbox" / old / "job.json").write_text(
        json.dumps({"request": {}, "source": None})
    )
    video = media.dir_for(f"videos/{old}") / "video.mp4"
    video.write_bytes(b"old video")
    account = AccountHandle(id="sandbox", name="sandbox", kind="sandbox")
    assert await sandbox.download_url(account, old) == f"media:videos/{old}/video.mp4"
