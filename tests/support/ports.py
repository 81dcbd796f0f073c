"""A loopback port nothing listens on (for "gateway unreachable" tests and ad-hoc servers)."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A port that was free a moment ago: bound to port 0, then released."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
