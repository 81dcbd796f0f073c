"""One real ``lumagate serve`` (SQLite, sandbox) shared by the client tests of a module."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.support.acceptance import start_server
from tests.support.ports import free_port
from tests.support.servers import GatewayServer

# The smallest clip the sandbox renders (540x540, ~0.4 of a default 1280x720 render's CPU): for
# the tasks whose video no test decodes; the tests that decode ask for their own sizes.
SMALL = {"aspect_ratio": "1:1", "resolution": "540p"}


@dataclass(frozen=True)
class ClientTarget:
    """The server and the keys the client tests use."""

    server: GatewayServer
    key: str
    broke_key: str
    slow_key: str

    @property
    def url(self) -> str:
        return self.server.base_url

    @property
    def closed_url(self) -> str:
        return f"http://127.0.0.1:{free_port()}"


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClientTarget]:
    server = start_server(tmp_path_factory.mktemp("client-gw"), sandbox_fail_marker="[[fail]]")
    try:
        yield ClientTarget(
            server=server,
            key=server.create_key("client"),
            broke_key=server.create_key("broke", "--credits", "0"),
            slow_key=server.create_key("slow", "--rpm", "1"),
        )
    finally:
        server.stop()
