"""A real S3 protocol server on loopback for the tests: moto's server mode, in this process.

moto's S3 app (the Flask app ``moto_server s3`` serves) on werkzeug's threaded server, bound to
port 0, reporting the port it got (no free-port race). Not ``ThreadedMotoServer``: its
dispatcher finds the service of every request among all of moto's (regex by regex, under a
lock), ~28 % of the CPU of each S3 call the gateways make; only S3 is ever asked for here. Each test
asks :meth:`S3Server.new_bucket` for a bucket of its own, so tests never see each other's
objects. Gateway subprocesses reach the same server over loopback with the environment of
:meth:`S3Server.gateway_settings`.
"""

from __future__ import annotations

import itertools
import logging
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import boto3
import pytest
from moto.moto_server.werkzeug_app import MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server

ACCESS_KEY = "lumagate-test"
SECRET_KEY = "lumagate-test-secret"
REGION = "us-east-1"
REGION_SCOPE = "aws"  # moto keeps S3 buckets per partition


@dataclass
class S3Server:
    """A started moto server and a counter of the buckets made in it."""

    endpoint: str
    _counter: Iterator[int] = field(default_factory=itertools.count)

    def client(self) -> Any:
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
        )

    def new_bucket(self) -> str:
        name = f"lumagate-{next(self._counter)}-{uuid.uuid4().hex[:8]}"
        self.client().create_bucket(Bucket=name)
        return name

    def gateway_settings(self, bucket: str, prefix: str = "media") -> dict[str, str]:
        """``start_server`` settings (lower-case names) for a gateway on this bucket."""
        return {"media_url": f"s3://{bucket}/{prefix}", "s3_endpoint_url": self.endpoint}

    @staticmethod
    def gateway_env() -> dict[str, str]:
        return {"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY}


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """One moto S3 server for the test session, on 127.0.0.1 and a port the kernel chose."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    app = create_backend_app("s3")
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=MotoRequestHandler)
    thread = threading.Thread(target=server.serve_forever, name="moto-s3", daemon=True)
    thread.start()
    try:
        yield S3Server(f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        thread.join(timeout=30)


def age_objects(bucket: str, keys: set[str], by: timedelta) -> None:
    """Make the objects ``keys`` of ``bucket`` look ``by`` older (moto keeps its state in this
    process): how the retention tests get media from two days ago without waiting."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends

    stored = s3_backends[DEFAULT_ACCOUNT_ID][REGION_SCOPE].get_bucket(bucket)
    found = set()
    for name in list(stored.keys.keys()):
        if name in keys:
            for version in stored.keys.getlist(name):
                version.last_modified = version.last_modified - by
            found.add(name)
    assert found == keys, f"not in the bucket: {sorted(keys - found)}"
