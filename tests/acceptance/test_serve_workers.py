"""``lumagate serve --workers 2`` on PostgreSQL: two worker processes share the socket, both
answer clients, and the tasks they take are run by the engines coordinated through the
database; on SQLite the option is refused with a clear message."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.acceptance import client
from tests.support.databases import replica_secrets
from tests.support.servers import (
    LUMAGATE,
    GatewayServer,
    server_env,
    start_listening,
    wait_until_up,
)
from tests.support.upstreams import wait_terminal

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
DEADLINE_SECONDS = 60.0


class WorkersServer(GatewayServer):
    """The shared server harness, started with ``--workers 2``."""

    def start(self) -> WorkersServer:
        command = [*LUMAGATE, "serve", "--host", "127.0.0.1", "--port", "0", "--workers", "2"]
        port_file = self.data_dir / "server.port"
        self.process, self.port = start_listening(command, port_file, self.log_path, self.env)
        wait_until_up(self.base_url + "/healthz", self.process, timeout=self.startup_seconds)
        return self


def _children(pid: int) -> list[int]:
    tasks = Path(f"/proc/{pid}/task")
    found: list[int] = []
    for thread in tasks.iterdir():
        children = (thread / "children").read_text().split()
        found.extend(int(c) for c in children)
    return found


def _connections_by_worker(workers: list[int], port: int) -> dict[int, int]:
    """Established client connections on ``port`` each worker process holds open."""
    inodes: set[str] = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, state, inode = fields[1], fields[3], fields[9]
        if state == "01" and int(local.split(":")[1], 16) == port:  # ESTABLISHED
            inodes.add(inode)
    held: dict[int, int] = {}
    for pid in workers:
        count = 0
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:[") and target[8:-1] in inodes:
                count += 1
        held[pid] = count
    return held


@pytest.fixture
def workers_server(pg_url: str, tmp_path: Path) -> Iterator[WorkersServer]:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    env = server_env(data_dir, database_url=pg_url, **replica_secrets())
    server = WorkersServer(data_dir, env)
    server.start()
    try:
        yield server
    finally:
        assert server.stop() == 0, server.log_text()


def test_two_workers_share_the_socket_and_the_work(workers_server: WorkersServer) -> None:
    assert workers_server.process is not None
    workers = _children(workers_server.process.pid)
    workers = [pid for pid in workers if "spawn_main" in Path(f"/proc/{pid}/cmdline").read_text()]
    assert len(workers) == 2, workers
    key = workers_server.create_key("workers")
    held: list[httpx.Client] = []
    deadline = time.monotonic() + DEADLINE_SECONDS
    try:
        # Open keep-alive connections until each worker holds at least one (the kernel
        # hands each new connection to whichever worker accepts first).
        while True:
            http = client(workers_server.base_url, key)
            held.append(http)
            assert http.get("/luma/generations").status_code == 200
            counts = _connections_by_worker(workers, workers_server.port)
            if all(counts.values()) or time.monotonic() > deadline:
                break
        assert all(counts.values()), counts
        # Tasks created through both workers are all run (by either worker's engine).
        ids = [
            http.post("/luma/generations", json={"user_prompt": f"fox {i}"}).json()["id"]
            for i, http in enumerate(held[:6])
        ]
        done = wait_terminal(held[0], ids, DEADLINE_SECONDS)
        assert {task["state"] for task in done.values()} == {"completed"}, done
    finally:
        for http in held:
            http.close()


def test_workers_are_refused_on_sqlite(tmp_path: Path) -> None:
    env = server_env(tmp_path / "data")
    done = subprocess.run(
        [*LUMAGATE, "serve", "--port", "0", "--workers", "2"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "--workers needs PostgreSQL" in done.stderr
