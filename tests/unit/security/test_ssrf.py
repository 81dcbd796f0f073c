"""The SSRF guard without a network: address classes, odd IPv4 spellings, the allow-list,
names resolved by an injected resolver, and the transport that connects to the checked address."""

from __future__ import annotations

import ipaddress

import httpx
import pytest

from lumagate.security.pinned_transport import PIN_EXTENSION, PinnedTransport
from lumagate.security.ssrf import (
    CallbackRefused,
    SsrfGuard,
    TargetUnresolvable,
    classify,
    parse_ip_literal,
    parse_ipv4_like_os,
)


def fake_resolver(table: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    calls: list[str] = []

    async def resolve(host: str, port: int) -> list[str]:
        calls.append(host)
        if host not in table:
            raise OSError("Name or service not known")
        return table[host]

    resolve.calls = calls  # type: ignore[attr-defined]
    return resolve


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("0X7F000001", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("127.0.1", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("10.1", "10.0.0.1"),
        ("0", "0.0.0.0"),
        ("169.254.43518", "169.254.169.254"),
        ("1.2.3.4", "1.2.3.4"),
    ],
)
def test_ipv4_is_parsed_like_inet_aton(text: str, expected: str) -> None:
    assert parse_ipv4_like_os(text) == ipaddress.IPv4Address(expected)


@pytest.mark.parametrize(
    "text",
    ["example.com", "1.2.3.4.5", "256.1.1.1", "08.1.1.1", "1e3", "+1.2.3.4", "1_0.0.0.1", ""],
)
def test_non_addresses_are_names(text: str) -> None:
    assert parse_ipv4_like_os(text) is None


def test_ipv6_literals() -> None:
    assert parse_ip_literal("[::1]") == ipaddress.IPv6Address("::1")
    assert parse_ip_literal("fe80::1%eth0") == ipaddress.IPv6Address("fe80::1")


@pytest.mark.parametrize(
    ("address", "word"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.1", "private"),
        ("fd12::1", "private"),
        ("169.254.1.1", "link-local"),
        ("fe80::1", "link-local"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("240.0.0.1", "reserved"),
        ("100.64.0.1", "not a public"),
        ("169.254.169.254", "metadata"),
        ("fd00:ec2::254", "metadata"),
        ("100.100.100.200", "metadata"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:169.254.169.254", "metadata"),
        ("64:ff9b::a00:1", "private"),
        ("2002:7f00:1::", "loopback"),
    ],
)
def test_blocked_addresses_say_why(address: str, word: str) -> None:
    reason = classify(ipaddress.ip_address(address))
    assert reason is not None and word in reason


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_pass(address: str) -> None:
    assert classify(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://[::1]/hook",
        "http://10.0.0.1/hook",
        "http://192.168.1.1/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://0x7f000001/",
        "http://2130706433/",
        "http://127.1/",
        "http://[::ffff:7f00:1]/",
        "https://0177.0.0.1:8443/x",
    ],
)
async def test_literal_targets_are_refused_without_dns(url: str) -> None:
    resolver = fake_resolver({})
    with pytest.raises(CallbackRefused):
        await SsrfGuard(resolver=resolver).check(url)
    assert resolver.calls == []  # type: ignore[attr-defined]


async def test_a_name_is_refused_if_any_address_is_internal() -> None:
    resolver = fake_resolver(
        {
            "localhost": ["127.0.0.1", "::1"],
            "mixed.example": ["93.184.216.34", "10.0.0.7"],
            "meta.example": ["169.254.169.254"],
            "good.example": ["93.184.216.34", "2606:4700:4700::1111"],
        }
    )
    guard = SsrfGuard(resolver=resolver)
    for host in ("localhost", "mixed.example", "meta.example"):
        with pytest.raises(CallbackRefused) as refused:
            await guard.check(f"https://{host}/hook")
        assert host in refused.value.reason
    target = await guard.check("https://good.example:8443/hook?x=1")
    assert target.host == "good.example" and target.port == 8443 and target.scheme == "https"
    assert [str(a) for a in target.addresses] == ["93.184.216.34", "2606:4700:4700::1111"]


async def test_unresolvable_names_are_retryable_not_refused() -> None:
    with pytest.raises(TargetUnresolvable):
        await SsrfGuard(resolver=fake_resolver({})).check("https://nowhere.example/")


@pytest.mark.parametrize(
    "url", ["ftp://example.com/", "file:///etc/passwd", "http:///nohost", "http://x:99999/"]
)
async def test_malformed_or_foreign_schemes_are_refused(url: str) -> None:
    with pytest.raises(CallbackRefused):
        await SsrfGuard(resolver=fake_resolver({"example.com": ["93.184.216.34"]})).check(url)


async def test_allow_list_by_network_and_by_name() -> None:
    resolver = fake_resolver(
        {
            "hooks.internal": ["10.1.2.3"],
            "x.corp.example": ["192.168.7.7"],
            "meta": ["169.254.169.254"],
        }
    )
    guard = SsrfGuard(["127.0.0.0/8", "hooks.internal", "*.corp.example", "meta"], resolver)
    assert (await guard.check("http://127.0.0.1:9000/")).addresses
    assert (await guard.check("http://0x7f000001/")).addresses[0] == ipaddress.ip_address(
        "127.0.0.1"
    )
    assert (await guard.check("http://hooks.internal/")).addresses
    assert (await guard.check("http://x.corp.example/")).addresses
    with pytest.raises(CallbackRefused):  # a name never admits a metadata address
        await guard.check("http://meta/")
    with pytest.raises(CallbackRefused):  # not in the list
        await guard.check("http://10.0.0.1/")
    explicit = SsrfGuard(["169.254.169.254/32"], resolver)
    assert (await explicit.check("http://169.254.169.254/")).addresses


async def test_pinned_transport_connects_to_the_checked_address() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    client = httpx.AsyncClient(transport=PinnedTransport(httpx.MockTransport(handler)))
    request = client.build_request(
        "POST",
        "https://hooks.example:8443/cb?token=1",
        content=b"{}",
        extensions={PIN_EXTENSION: "93.184.216.34"},
    )
    response = await client.send(request)
    assert response.status_code == 204
    sent = seen[0]
    assert sent.url.host == "93.184.216.34" and sent.url.port == 8443
    assert sent.url.path == "/cb" and sent.url.query == b"token=1"
    assert sent.headers["host"] == "hooks.example:8443"
    assert sent.extensions["sni_hostname"] == "hooks.example"
    assert PIN_EXTENSION not in sent.extensions

    v6 = client.build_request("POST", "http://hooks.example/", extensions={PIN_EXTENSION: "::1"})
    await client.send(v6)
    assert seen[1].url.host == "::1" and "sni_hostname" not in seen[1].extensions


async def test_pinned_transport_refuses_unchecked_requests() -> None:
    client = httpx.AsyncClient(
        transport=PinnedTransport(httpx.MockTransport(lambda r: httpx.Response(200)))
    )
    with pytest.raises(httpx.ConnectError):
        await client.post("http://example.com/")
