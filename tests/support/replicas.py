"""Replicas for tests: several ``lumagate serve`` on one PostgreSQL database behind a balancer.

Each replica has its own data dir, as separate machines would; they share what
docs/replicas.md says they must: the database, the secret and admin keys, the public URL (the
balancer's) and, where the test gives one, the media store.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.balancer import Balancer
from tests.support.databases import pg_rows, replica_secrets
from tests.support.s3 import S3Server
from tests.support.servers import GatewayServer, server_env


@dataclass
class MediaPlace:
    """Where the replicas keep media: settings and environment, and a step per data dir."""

    name: str
    stored: Callable[[str], bytes]  # the bytes kept under a media key, read past the gateway
    settings: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    prepare: Callable[[Path], None] = lambda data_dir: None


def object_store(server: S3Server) -> MediaPlace:
    """One bucket of the test's S3 server (moto) for every replica."""
    bucket, prefix = server.new_bucket(), "media"
    s3 = server.client()  # one client: a new one costs ~10 ms of CPU, and the chaos test reads
    # every hosted video and thumbnail (600 objects) past the gateway

    def stored(key: str) -> bytes:
        found = s3.get_object(Bucket=bucket, Key=f"{prefix}/{key}")
        content: bytes = found["Body"].read()
        return content

    return MediaPlace(
        "s3",
        stored=stored,
        settings=server.gateway_settings(bucket, prefix),
        env=server.gateway_env(),
    )


def shared_folder(folder: Path) -> MediaPlace:
    """Every replica's ``<data dir>/media`` is one folder (as a shared mount would be)."""
    folder.mkdir(parents=True, exist_ok=True)

    def link(data_dir: Path) -> None:
        (data_dir / "media").symlink_to(folder, target_is_directory=True)

    return MediaPlace("shared-folder", stored=lambda key: (folder / key).read_bytes(), prepare=link)


@dataclass
class Cluster:
    servers: list[GatewayServer]
    balancer: Balancer
    database_url: str

    def rows(self, query: str, *params: Any) -> list[dict[str, Any]]:
        return pg_rows(self.database_url, query, *params)

    def by_owner(self, owner: str) -> GatewayServer:
        """The replica whose engine id (``<host>-<pid>-<random>``) is ``owner``."""
        pid = int(owner.split("-")[-2])
        return next(s for s in self.servers if s.process is not None and s.process.pid == pid)

    def alive(self) -> list[GatewayServer]:
        return [s for s in self.servers if s.process is not None]


@contextmanager
def cluster(
    root: Path,
    database_url: str,
    count: int,
    media: MediaPlace | None = None,
    before_start: Callable[[GatewayServer], None] = lambda server: None,
    **settings: str,
) -> Iterator[Cluster]:
    """``count`` started replicas (``before_start`` runs once, on the first, e.g. to add
    accounts) and the balancer in front of them; all killed at the end."""
    place = media or MediaPlace("data-dir", stored=lambda key: b"")
    balancer = Balancer().start()
    shared = {
        "database_url": database_url,
        "public_url": balancer.url,
        **replica_secrets(),
        **place.settings,
        **settings,
    }
    servers: list[GatewayServer] = []
    try:
        for index in range(count):
            data_dir = root / f"replica-{index}"
            data_dir.mkdir(parents=True)
            place.prepare(data_dir)
            env = {**server_env(data_dir, **shared, server_id=f"replica-{index}"), **place.env}
            server = GatewayServer(data_dir, env)
            if index == 0:
                before_start(server)
            servers.append(server.start())
        balancer.backends = [s.base_url for s in servers]
        yield Cluster(servers, balancer, database_url)
    finally:
        for server in servers:
            server.kill()
        balancer.close()
