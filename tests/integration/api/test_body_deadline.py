"""Stalled uploads cannot pin connections: 500 bodies that never finish are all answered 408
and closed within the body deadline, while normal requests keep being served.

A real ``lumagate serve`` over loopback with ``LUMAGATE_BODY_TIMEOUT_SECONDS=2``. Each stalled
client declares ``Content-Length: 1000`` and sends 14 bytes; the test then waits on all 500
sockets at once for the 408 and the server's close.
"""

from __future__ import annotations

import selectors
import socket
import time
from pathlib import Path

import httpx
import pytest

from tests.support.servers import GatewayServer, server_env

pytestmark = pytest.mark.slow

STALLED = 500
DEADLINE_SECONDS = 2.0
SLACK_SECONDS = 8.0  # a loaded 2-core CI box; still far below "never"


def _stalled(port: int, key: str) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    head = (
        "POST /luma/generations HTTP/1.1\r\n"
        "Host: 127.0.0.1\r\n"
        f"Authorization: Bearer {key}\r\n"
        "Content-Type: application/json\r\n"
        "Content-Length: 1000\r\n\r\n"
    )
    sock.sendall(head.encode() + b'{"user_prompt"')  # 14 of the 1000 bytes
    sock.setblocking(False)
    return sock


def _wait_closed(sockets: list[socket.socket], until: float) -> dict[socket.socket, bytes]:
    """Read every socket until the server closes it (or ``until``); what each received."""
    received = {s: b"" for s in sockets}
    selector = selectors.DefaultSelector()
    for sock in sockets:
        selector.register(sock, selectors.EVENT_READ)
    open_count = len(sockets)
    while open_count and time.monotonic() < until:
        for event, _ in selector.select(timeout=0.5):
            sock = event.fileobj
            assert isinstance(sock, socket.socket)
            try:
                chunk = sock.recv(65536)
            except (ConnectionResetError, BlockingIOError):
                chunk = b""
            if chunk:
                received[sock] += chunk
            else:
                selector.unregister(sock)
                open_count -= 1
                received[sock] += b"<closed>"
    selector.close()
    return received


def test_stalled_bodies_are_closed_by_the_deadline_and_others_are_served(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    env = server_env(data_dir, body_timeout_seconds=str(DEADLINE_SECONDS))
    server = GatewayServer(data_dir, env)
    key = server.create_key("stall")
    server.start()
    sockets: list[socket.socket] = []
    try:
        started = time.monotonic()
        sockets = [_stalled(server.port, key) for _ in range(STALLED)]
        with httpx.Client(
            base_url=server.base_url, headers={"Authorization": f"Bearer {key}"}, trust_env=False
        ) as http:
            for _ in range(5):  # served while all 500 are stalled
                assert http.get("/healthz").status_code == 200
            created = http.post("/luma/generations", json={"user_prompt": "served anyway"})
            assert created.status_code == 200, created.text
        opened = time.monotonic() - started
        received = _wait_closed(sockets, time.monotonic() + DEADLINE_SECONDS + SLACK_SECONDS)
        closed = [data for data in received.values() if data.endswith(b"<closed>")]
        assert len(closed) == STALLED, (
            f"{STALLED - len(closed)} still open (opening took {opened:.1f} s)"
        )
        assert all(data.startswith(b"HTTP/1.1 408 ") for data in closed), closed[0][:200]
        assert all(b"request_timeout" in data for data in closed)
        with httpx.Client(base_url=server.base_url, trust_env=False) as http:
            assert http.get("/healthz").status_code == 200
    finally:
        for sock in sockets:
            sock.close()
        server.stop()
    assert "Traceback" not in server.log_text()


def test_slow_or_absent_headers_are_cut_by_the_header_deadline(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    env = server_env(data_dir, header_timeout_seconds=str(DEADLINE_SECONDS))
    server = GatewayServer(data_dir, env).start()
    sockets: list[socket.socket] = []
    try:
        for index in range(100):
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            if index % 2:  # half send part of their headers, half nothing at all
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            sock.setblocking(False)
            sockets.append(sock)
        with httpx.Client(base_url=server.base_url, trust_env=False) as http:
            assert http.get("/healthz").status_code == 200  # served beside them
        received = _wait_closed(sockets, time.monotonic() + DEADLINE_SECONDS + SLACK_SECONDS)
        assert all(data == b"<closed>" for data in received.values()), [
            d[:80] for d in received.values() if d != b"<closed>"
        ][:3]
    finally:
        for sock in sockets:
            sock.close()
        server.stop()
