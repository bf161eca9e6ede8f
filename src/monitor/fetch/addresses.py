"""PURE: which network a redirect may lead to. A feed's server must not be able to point the poller at
the operator's own networks (server-side request forgery, CWE-918): the cloud metadata service at
169.254.169.254, an admin page on 127.0.0.1, a router on 10.0.0.1.

The operator chose the feed's own address, whatever it is; a redirect is the feed's server choosing. So a
redirect may lead to a global address, or to an address of a class the feed's own address already has (a
feed on 127.0.0.1 may move within 127.0.0.0/8), and nowhere else unless `allow_private_redirects` is set.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

GLOBAL = "global"
# Checked in this order: the first that contains an address names its class.
_CLASSES: tuple[tuple[str, tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]], ...] = (
    ("loopback", (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))),
    ("link-local", (ipaddress.ip_network("169.254.0.0/16"), ipaddress.ip_network("fe80::/10"))),
    (
        "private",
        (
            ipaddress.ip_network("10.0.0.0/8"),
            ipaddress.ip_network("172.16.0.0/12"),
            ipaddress.ip_network("192.168.0.0/16"),
            ipaddress.ip_network("fc00::/7"),
        ),
    ),
    ("shared", (ipaddress.ip_network("100.64.0.0/10"),)),  # carrier-grade NAT, RFC 6598
    ("unspecified", (ipaddress.ip_network("0.0.0.0/8"), ipaddress.ip_network("::/128"))),
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052: an IPv4 address in its last 32 bits


def address_class(address: Address) -> str:
    """ "global", or the kind of non-global network the address belongs to."""
    address = _embedded_ipv4(address)
    for name, networks in _CLASSES:
        if any(address in network for network in networks if network.version == address.version):
            return name
    if address.is_multicast:
        return "multicast"
    return GLOBAL if address.is_global else "reserved"  # documentation, benchmarking, 240/4 and the like


def _embedded_ipv4(address: Address) -> Address:
    """IPv6 forms that reach an IPv4 host count as that host: ::ffff:127.0.0.1 is loopback."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped:
            return address.ipv4_mapped
        if address.sixtofour:
            return address.sixtofour
        if address in _NAT64:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


def redirect_refusal(
    origin: Iterable[Address], target: Iterable[Address], *, allow_private: bool = False
) -> str | None:
    """Why a redirect to `target` (every address its host resolves to) is refused for a feed whose own
    host resolves to `origin`; None when it may be followed. One refused address refuses the redirect:
    which of them a connection would use is not ours to choose."""
    if allow_private:
        return None
    allowed = {address_class(a) for a in origin} | {GLOBAL}
    for address in target:
        kind = address_class(address)
        if kind not in allowed:
            return f"{address} is a {kind} address"
    return None


def parse_address(text: str) -> Address | None:
    """An IP literal as written in a URL's host (IPv6 without brackets, a zone index dropped)."""
    try:
        return ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None
