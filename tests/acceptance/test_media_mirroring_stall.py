"""``kill -9`` of the gateway in the middle of a real download of a video it is keeping, then a
restart (``lumagate serve`` + ``lumagate sim`` as subprocesses, SQLite and PostgreSQL).

The sim's storage is switched to ``stall``: a download gets the first half of the file and then
hangs, so the gateway is killed while it holds half-written temporary files (the video's, and
those of the files copied beside it). After the restart each copy completes once, with the
right bytes; no half-written file is served or counted as kept, and no file is downloaded whole
twice (the sim counts every GET per file).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lumagate.domain.mirroring import MirrorJob, pending_copies
from lumagate.store.task_rows import media_from_json
from tests.support.databases import ServerDatabase
from tests.support.mirroring import (
    get_ok,
    media_mode,
    mirror_gateway,
    mirror_rows,
    sim,
    upstream_bytes,
)
from tests.support.servers import GatewayServer
from tests.support.upstreams import (
    SimProcess,
    client,
    create,
    sim_get,
    task_rows,
    wait_terminal,
)
from tests.support.waiting import wait_until

__all__ = ["sim"]

pytestmark = pytest.mark.slow


def _mirror_files(server: GatewayServer) -> list[Path]:
    folder = server.data_dir / "media" / "mirrors"
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def _files_to_copy(server: GatewayServer, task_id: str) -> int:
    source = media_from_json(mirror_rows(server)[task_id]["source"])
    assert source is not None
    return len(pending_copies(MirrorJob(task_id, None, None, source, "mirrors/x")))


def _stalled(sim: SimProcess, files: int) -> dict[str, int] | None:
    stalled: dict[str, int] = sim_get(sim, "/_sim/media")["stalled"]
    return stalled if len(stalled) == files else None


def _half_written(server: GatewayServer) -> bool:
    """A temporary file of a copy exists and has bytes in it: the download is under way."""
    return any(p.name.startswith(".tmp-") and p.stat().st_size > 0 for p in _mirror_files(server))


def test_kill_9_mid_download_then_restart_keeps_each_file_once(
    sim: SimProcess, tmp_path: Path, server_database: ServerDatabase
) -> None:
    media_mode(sim, "stall")
    # A long upstream timeout: the stalled read must still be hanging when the kill comes.
    server = mirror_gateway(tmp_path, sim, server_database(), upstream_timeout_seconds="120")
    server.start()
    key = server.create_key("stall")
    try:
        with client(server, key) as http:
            task_id = create(http, {"user_prompt": "mirror stall"})
            wait_until(lambda: _half_written(server), "a copy is half written", timeout=60)
            files = _files_to_copy(server, task_id)
            # Every file is opened once the video's upstream answered: each one GET, stalled.
            stalled = wait_until(
                lambda: _stalled(sim, files), f"the {files} downloads stalled", timeout=30
            )
            assert set(stalled.values()) == {1}, stalled
            assert any(name.endswith(".mp4") for name in stalled), stalled
            task = http.get(f"/luma/generations/{task_id}").json()
            assert task["state"] == "processing" and task["video"] is None, task
        server.kill()
        leftovers = [p for p in _mirror_files(server) if p.name.startswith(".tmp-")]
        assert leftovers, "the killed copy left its temporary file"
        media_mode(sim, "ok")  # the killed download's connection is gone; new ones flow
        server.start()
        with client(server, key) as http:
            done = wait_terminal(http, [task_id], 90, poll=0.2)[task_id]
            assert done["state"] == "completed", done
            kept = get_ok(http, done["video"]["download_url"])
            assert kept == upstream_bytes(sim, task_rows(server)[task_id])
        job = mirror_rows(server)[task_id]
        assert job["state"] == "done"
        copied = sorted(k for k in job["copied"].values() if k)
        assert {"video", "thumbnail"} <= {a for a, k in job["copied"].items() if k}, job
        # Exactly the kept files are in the store; the killed copy's temporary file is no
        # kept file (the store never lists or serves a ``.tmp-`` name).
        finished = [p for p in _mirror_files(server) if not p.name.startswith(".tmp-")]
        root = server.data_dir / "media"
        assert sorted(p.relative_to(root).as_posix() for p in finished) == copied
        media = sim_get(sim, "/_sim/media")
        # Every kept file was downloaded once, plus the one interrupted GET of each file and
        # the GET of ``upstream_bytes`` above: nothing was downloaded whole twice.
        assert media["stalled"] == stalled, media
        assert sum(media["served"].values()) == len(copied) + len(stalled) + 1, media
    finally:
        server.stop()
