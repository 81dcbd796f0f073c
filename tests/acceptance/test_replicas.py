"""Replicas on one PostgreSQL database (docs/replicas.md), as separate machines run them: each
``lumagate serve`` has its own data dir, all share the database, the keys and the public URL.

``kill -9`` of the replica rendering a sandbox task: another replica takes the render over
once its lease ran out, renders it once, the sandbox slot is freed, and later ``/pro`` tasks
complete instead of queueing for good. A replica without the shared keys refuses to start.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lumagate.domain.video import FRAMES_PER_SECOND
from tests.support.acceptance import client
from tests.support.replicas import Cluster, cluster, shared_folder
from tests.support.servers import LUMAGATE, GatewayServer, server_env

pytestmark = pytest.mark.slow

LEASE_SECONDS = "3"
TAKE_OVER_SECONDS = 180.0  # a 1080p 9 s render twice, then three small ones, on a busy machine


@pytest.fixture
def replicas(tmp_path: Path, pg_url: str) -> Iterator[Cluster]:
    with cluster(
        tmp_path,
        pg_url,
        2,
        shared_folder(tmp_path / "shared-media"),  # the other media store replicas may share
        lease_seconds=LEASE_SECONDS,
        sandbox_concurrency="1",
        sandbox_fps=str(
            FRAMES_PER_SECOND
        ),  # the default's: a render lasts long enough to be killed
        refresh_interval_seconds="0.5",
    ) as started:
        yield started


def _render_job(replicas: Cluster, task_id: str) -> dict[str, Any] | None:
    rows = replicas.rows(
        "SELECT owner, state, renders FROM render_jobs WHERE id = ?", f"sbx-{task_id}"
    )
    return rows[0] if rows else None


def _renders(server: GatewayServer) -> list[str]:
    log = server.data_dir / "sandbox" / "renders.log"
    return log.read_text().split() if log.exists() else []


def _wait(condition: object, what: str, timeout: float) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition() if callable(condition) else condition
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {timeout} s")


def test_a_killed_replicas_sandbox_render_is_taken_over_and_its_slot_freed(
    replicas: Cluster, tmp_path: Path
) -> None:
    key = replicas.servers[0].create_key("replicas")
    with client(replicas.balancer.url, key) as http:
        long_clip = {
            "user_prompt": "taken over",
            "aspect_ratio": "16:9",
            "resolution": "1080p",
            "duration": "9s",
        }
        created = http.post("/pro/luma/generations", json=long_clip)
        assert created.status_code == 200, created.text
        task_id = created.json()["id"]
        job = _wait(
            lambda: (j := _render_job(replicas, task_id)) and j["state"] == "rendering" and j,
            "the render to start on some replica",
            60.0,
        )
        assert isinstance(job, dict)
        owner = str(job["owner"])
        victim = replicas.by_owner(owner)
        victim.kill()
        assert f"sbx-{task_id}" not in _renders(victim), "the render ended before the kill"
        survivor = next(s for s in replicas.servers if s is not victim)

        later = []
        for index in range(3):
            body = {"user_prompt": f"after the kill {index}", "resolution": "540p"}
            response = http.post("/pro/luma/generations", json=body)
            assert response.status_code == 200, response.text
            later.append(response.json()["id"])

        def states() -> dict[str, str]:
            answer = http.post("/pro/luma/tasks", json={"ids": [task_id, *later]})
            assert answer.status_code == 200, answer.text
            return {r["id"]: r["data"]["state"] for r in answer.json()["data"]}

        _wait(
            lambda: set(states().values()) == {"completed"},
            "the taken-over task and the later /pro tasks to complete",
            TAKE_OVER_SECONDS,
        )
        task = http.get(f"/pro/luma/generations/{task_id}").json()
        video = http.get(task["video"]["download_url"])
        assert video.status_code == 200 and len(video.content) > 10_000
        prefix = replicas.balancer.url + "/files/"
        assert task["video"]["download_url"].startswith(prefix)
        key = task["video"]["download_url"][len(prefix) :]
        assert (tmp_path / "shared-media" / key).read_bytes() == video.content

    final = _render_job(replicas, task_id)
    assert final is not None
    assert (final["state"], final["renders"], final["owner"]) == ("completed", 1, None)
    assert _renders(survivor).count(f"sbx-{task_id}") == 1
    assert f"sbx-{task_id}" not in _renders(victim)
    for other in later:
        assert (_render_job(replicas, other) or {}).get("renders") == 1


@pytest.mark.parametrize(
    ("command", "missing"),
    [
        pytest.param(
            ["serve", "--port", "0"], "LUMAGATE_SECRET_KEY and LUMAGATE_ADMIN_KEY", id="serve"
        ),
        pytest.param(["keys", "create", "--name", "x"], "LUMAGATE_SECRET_KEY", id="keys"),
    ],
)
def test_a_replica_without_the_shared_keys_refuses_to_start(
    tmp_path: Path, pg_url: str, command: list[str], missing: str
) -> None:
    env = server_env(tmp_path / "data", database_url=pg_url)
    env.update(COLUMNS="300", NO_COLOR="1")
    result = subprocess.run(
        [*LUMAGATE, *command], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 2, result
    said = " ".join(result.stderr.split())
    assert missing in said and "every replica" in said, said
    assert not (tmp_path / "data" / "secret.key").exists()
    assert not (tmp_path / "data" / "admin.key").exists()
