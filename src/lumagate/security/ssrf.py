"""The SSRF guard for callbacks: where may the gateway POST a tenant-supplied URL?

A callback URL comes from a stranger, so the gateway must not become a way to reach its own
network. The guard resolves the host and refuses the target if ANY address it resolves to is
loopback, private, link-local, multicast, reserved, unspecified, not globally routable, or a
cloud metadata address — unless the allow-list (``LUMAGATE_CALLBACK_ALLOW``) admits it.

The names ``localhost`` and ``*.localhost`` count as loopback without asking DNS (RFC 6761),
and a name's trailing root dot is dropped before resolving (``localhost.`` is ``localhost``).
Host literals are parsed the way the C library's ``inet_aton`` parses them (``0x7f000001``,
``2130706433``, ``127.1``, ``0177.0.0.1``), so an odd spelling cannot slip past the check.
The caller must connect to one of the exact addresses returned in :class:`CheckedTarget`
(see :mod:`lumagate.security.pinned_transport`), never resolve the name again: that closes the
DNS-rebinding window between check and connect.

Allow-list entries are CIDRs/addresses (admit those addresses, metadata included when named
explicitly) or host names (``hooks.internal``, ``*.corp.example``: admit whatever the name
resolves to, except cloud metadata addresses).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Awaitable[list[str]]]

METADATA_ADDRESSES: frozenset[IPAddress] = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, DigitalOcean, OpenStack ...
        "169.254.170.2",  # AWS ECS task metadata
        "169.254.169.253",  # AWS VPC DNS
        "fd00:ec2::254",  # AWS IMDS over IPv6
        "fd00:ec2::253",
        "100.100.100.200",  # Alibaba Cloud
        "192.0.0.192",  # Oracle Cloud
    )
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class CallbackRefused(Exception):
    """The target is not allowed (a policy decision: recorded, never retried)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TargetUnresolvable(Exception):
    """The host did not resolve (possibly temporary: retried like any failed attempt)."""


@dataclass(frozen=True)
class CheckedTarget:
    url: str
    scheme: str
    host: str
    port: int
    addresses: tuple[IPAddress, ...]


def parse_ipv4_like_os(text: str) -> ipaddress.IPv4Address | None:
    """``inet_aton`` semantics: 1-4 parts, hex/octal/decimal, the last part fills the rest."""
    parts = text.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    values: list[int] = []
    for part in parts:
        value = _ipv4_part(part)
        if value is None:
            return None
        values.append(value)
    *head, last = values
    if any(v > 255 for v in head) or last >= 256 ** (4 - len(head)):
        return None
    number = last
    for index, value in enumerate(head):
        number += value << (8 * (3 - index))
    return ipaddress.IPv4Address(number)


_HEX = frozenset("0123456789abcdefABCDEF")


def _ipv4_part(part: str) -> int | None:
    """One dotted part as ``strtoul(part, 0)`` reads it; None if it is not all digits."""
    if part[:2] in ("0x", "0X"):
        digits = part[2:]
        if not set(digits) <= _HEX:
            return None
        return int(digits, 16) if digits else 0
    if not part or not part.isascii() or not part.isdigit():
        return None
    if len(part) > 1 and part.startswith("0"):
        return int(part, 8) if set(part) <= set("01234567") else None
    return int(part, 10)


def parse_ip_literal(host: str) -> IPAddress | None:
    """An address written in the URL's host (IPv6 without brackets, odd IPv4 forms), or None."""
    bare = host.strip("[]").split("%", 1)[0]
    if ":" in bare:
        try:
            return ipaddress.IPv6Address(bare)
        except ValueError:
            return None
    return parse_ipv4_like_os(bare)


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    return None


def classify(address: IPAddress) -> str | None:
    """Why ``address`` must not be called back, or None when it is a public address."""
    if address in METADATA_ADDRESSES:
        return f"{address} is a cloud metadata address"
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            inner = classify(embedded)
            if inner is not None:
                return f"{address} embeds {inner}"
    for flag, label in (
        (address.is_unspecified, "unspecified"),
        (address.is_loopback, "loopback"),
        (address.is_link_local, "link-local"),
        (address.is_multicast, "multicast"),
        (address.is_reserved, "reserved"),
        (address.is_private, "private"),
    ):
        if flag:
            return f"{address} is a {label} address"
    if not address.is_global:
        return f"{address} is not a public address"
    return None


class AllowList:
    """Networks and host names an operator admits despite the address rules."""

    def __init__(self, entries: Iterable[str] = ()) -> None:
        self.networks: list[IPNetwork] = []
        self.hosts: set[str] = set()
        self.suffixes: list[str] = []
        for raw in entries:
            entry = raw.strip().lower().rstrip(".")
            if not entry:
                continue
            try:
                self.networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
                continue
            except ValueError:
                pass
            if entry.startswith("*."):
                self.suffixes.append(entry[1:])
            else:
                self.hosts.add(entry)

    def admits_host(self, host: str) -> bool:
        name = host.lower().rstrip(".")
        return name in self.hosts or any(name.endswith(s) for s in self.suffixes)

    def admits_address(self, address: IPAddress) -> bool:
        return any(address.version == n.version and address in n for n in self.networks)


def is_localhost_name(host: str) -> bool:
    """``localhost`` and ``*.localhost`` (any case, root dot or not) always mean loopback."""
    name = host.lower().rstrip(".")
    return name == "localhost" or name.endswith(".localhost")


async def system_resolver(host: str, port: int) -> list[str]:
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


class SsrfGuard:
    """Checks callback URLs; ``resolver`` is injectable so tests need no network."""

    def __init__(self, allow: Sequence[str] = (), resolver: Resolver | None = None) -> None:
        self.allow = AllowList(allow)
        self.resolver = resolver or system_resolver

    async def check(self, url: str) -> CheckedTarget:
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise CallbackRefused(f"malformed URL: {exc}") from None
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https"):
            raise CallbackRefused("only http and https callback URLs are allowed")
        host = parts.hostname
        if not host:
            raise CallbackRefused("the callback URL has no host")
        port = port or (443 if scheme == "https" else 80)
        literal = parse_ip_literal(host)
        if literal is not None:
            addresses: list[IPAddress] = [literal]
        elif is_localhost_name(host):
            addresses = [ipaddress.IPv4Address("127.0.0.1")]  # RFC 6761, whatever DNS says
        else:
            addresses = await self._resolve(host.rstrip("."), port)  # "a.b." is "a.b"
        self._admit(host, addresses, by_name=literal is None)
        return CheckedTarget(url, scheme, host, port, tuple(dict.fromkeys(addresses)))

    async def _resolve(self, host: str, port: int) -> list[IPAddress]:
        try:
            found = await self.resolver(host, port)
        except (OSError, UnicodeError) as exc:
            raise TargetUnresolvable(f"{host} does not resolve: {exc}") from None
        addresses: list[IPAddress] = []
        for text in found:
            address = parse_ip_literal(text)
            if address is None:
                raise CallbackRefused(f"{host} resolved to an unusable address {text!r}")
            addresses.append(address)
        if not addresses:
            raise TargetUnresolvable(f"{host} does not resolve")
        return addresses

    def _admit(self, host: str, addresses: Sequence[IPAddress], *, by_name: bool) -> None:
        host_allowed = by_name and self.allow.admits_host(host)
        for address in addresses:
            reason = classify(address)
            if reason is None or self.allow.admits_address(address):
                continue
            if host_allowed and address not in METADATA_ADDRESSES:
                continue
            via = f"{host} resolves to " if by_name else ""
            raise CallbackRefused(f"refused: {via}{reason}")
