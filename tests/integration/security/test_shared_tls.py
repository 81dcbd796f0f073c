"""The gateway's outbound httpx clients share one TLS context instead of loading the CA bundle
once per client; the bundle loads at the first TLS connection, not when the gateway is built;
the shared context verifies as httpx's own default does."""

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

COUNT_LOADS = """
import os, ssl, sys
from pathlib import Path
loads = []
original = ssl.SSLContext.load_verify_locations
def counting(self, *args, **kwargs):
    loads.append(kwargs)
    return original(self, *args, **kwargs)
ssl.SSLContext.load_verify_locations = counting
made = []
original_default = ssl.create_default_context
def counting_default(*args, **kwargs):
    made.append(kwargs)
    return original_default(*args, **kwargs)
ssl.create_default_context = counting_default
from lumagate.gateway import Gateway
from lumagate.security.tls import client_tls
from lumagate.settings import Settings
Gateway(Settings(data_dir=Path(sys.argv[1]), sandbox_enabled=False))
print(len(made), len(loads))
client_tls(trust_env=True).wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_hostname="a.test")
client_tls(trust_env=False).wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_hostname="b.test")
print(len(made), len(loads))
"""


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    tls._context.cache_clear()
    yield
    tls._context.cache_clear()


def _env_without_ca_settings() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("SSL_CERT_FILE", "SSL_CERT_DIR")}


def test_a_gateway_loads_the_ca_bundle_once_for_its_four_clients_at_first_use(
    tmp_path: Path,
) -> None:
    done = subprocess.run(
        [sys.executable, "-c", COUNT_LOADS, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        env=_env_without_ca_settings(),
    )
    built, first_use = done.stdout.splitlines()
    assert built == "0 0"  # no context of httpx's and no bundle read while building
    assert first_use == "0 1"  # both kinds of client share the one bundle, read once


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


def _self_signed(directory: Path, name: str) -> tuple[Path, Path]:
    """A certificate for ``name`` signed by its own key (it is its own CA), and the key."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


async def _handshake(context: ssl.SSLContext, server: ssl.SSLContext, name: str) -> str:
    """A TLS handshake over loopback with ``context`` against a server using ``server``."""
    import asyncio

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"hello")
        await writer.drain()
        writer.close()

    listener = await asyncio.start_server(answer, "127.0.0.1", 0, ssl=server)
    port = listener.sockets[0].getsockname()[1]
    try:
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", port, ssl=context, server_hostname=name
        )
        data = await reader.read()
        writer.close()
        return data.decode()
    finally:
        listener.close()
        await listener.wait_closed()


def test_the_first_connection_loads_the_roots_and_verifies_against_them(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import asyncio

    cert, key = _self_signed(tmp_path, "upstream.test")
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert, key)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the environment's CA: this one only
    trusting, pinned = tls.client_tls(trust_env=True), tls.client_tls(trust_env=False)
    assert asyncio.run(_handshake(trusting, server, "upstream.test")) == "hello"
    with pytest.raises(ssl.SSLCertVerificationError):  # certifi's roots do not sign it
        asyncio.run(_handshake(pinned, server, "upstream.test"))
    with pytest.raises(ssl.SSLCertVerificationError):  # nor does it name another host
        asyncio.run(_handshake(trusting, server, "other.test"))
