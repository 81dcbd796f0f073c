"""One real ``lumagate serve`` shared by the console's integration tests (package scope)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.console import ADMIN_KEY
from tests.support.servers import GatewayServer, server_env

STARTUP_SECONDS = 120.0  # a loaded shared CI machine can take long to import and migrate


@pytest.fixture(scope="package")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayServer]:
    data_dir = tmp_path_factory.mktemp("console") / "data"
    data_dir.mkdir(parents=True)
    env = server_env(data_dir, admin_key=ADMIN_KEY, console_sign_in_attempts="3")
    gateway = GatewayServer(data_dir, env, startup_seconds=STARTUP_SECONDS).start()
    yield gateway
    gateway.stop()
