"""The gateway's outbound httpx clients share one TLS context instead of loading the CA bundle
once per client; the shared context verifies as httpx's own default does."""

from __future__ import annotations

import os
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import certifi
import pytest

from lumagate.security import tls

COUNT_CONTEXTS = """
import os, ssl, sys
from pathlib import Path
made = []
original = ssl.create_default_context
def counting(*args, **kwargs):
    made.append(kwargs)
    return original(*args, **kwargs)
ssl.create_default_context = counting
from lumagate.gateway import Gateway
from lumagate.settings import Settings
Gateway(Settings(data_dir=Path(sys.argv[1]), sandbox_enabled=False))
print(len(made))
"""


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    tls._context.cache_clear()
    yield
    tls._context.cache_clear()


def _env_without_ca_settings() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("SSL_CERT_FILE", "SSL_CERT_DIR")}


def test_a_gateway_loads_the_ca_bundle_once_for_its_four_clients(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", COUNT_CONTEXTS, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        env=_env_without_ca_settings(),
    )
    assert done.stdout.split() == ["1"]


def test_the_shared_context_verifies_certificates_and_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    context = tls.client_tls(trust_env=True)
    assert context is tls.client_tls(trust_env=True) is tls.client_tls(trust_env=False)
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
    assert context.cert_store_stats()["x509_ca"] > 0


def test_only_the_clients_that_trust_the_environment_take_its_ca_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    one_ca = tmp_path / "one.pem"
    pem = Path(certifi.where()).read_text()
    one_ca.write_text(pem[: pem.index("-----END CERTIFICATE-----") + 26])
    monkeypatch.setenv("SSL_CERT_FILE", str(one_ca))
    from_env, pinned = tls.client_tls(trust_env=True), tls.client_tls(trust_env=False)
    assert from_env is not pinned
    assert from_env.cert_store_stats()["x509_ca"] == 1
    assert pinned.cert_store_stats()["x509_ca"] > 1
