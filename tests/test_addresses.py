"""Which networks a redirect may lead to (`monitor.addresses`): literal IPs, no network."""

from __future__ import annotations

import ipaddress

import pytest

from monitor.fetch.addresses import address_class, redirect_refusal

PUBLIC = [ipaddress.ip_address("93.184.215.14")]  # a global address, as a public feed's host resolves


def ips(*texts: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    return [ipaddress.ip_address(t) for t in texts]


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("127.200.0.9", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("172.31.255.255", "private"),
        ("192.168.1.1", "private"),
        ("fd00::1", "private"),
        ("fc00::5", "private"),
        ("::ffff:10.1.2.3", "private"),
        ("64:ff9b::a9fe:a9fe", "link-local"),  # NAT64 of 169.254.169.254
        ("2002:7f00:1::", "loopback"),  # 6to4 of 127.0.0.1
        ("100.64.0.1", "shared"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("192.0.2.1", "reserved"),
        ("198.18.0.1", "reserved"),
        ("240.0.0.1", "reserved"),
        ("2001:db8::1", "reserved"),
        ("93.184.215.14", "global"),
        ("8.8.8.8", "global"),
        ("172.32.0.1", "global"),
        ("2606:4700::1111", "global"),
    ],
)
def test_address_classes(address: str, kind: str) -> None:
    assert address_class(ipaddress.ip_address(address)) == kind


@pytest.mark.parametrize(
    "target",
    [
        "127.0.0.1",
        "::1",
        "169.254.169.254",
        "fe80::1",
        "10.0.0.1",
        "172.16.0.1",
        "192.168.0.10",
        "fd12:3456::1",
        "100.64.1.1",
        "0.0.0.0",
        "::ffff:169.254.169.254",
        "224.0.0.251",
    ],
)
def test_a_public_feed_may_not_redirect_into_a_non_global_network(target: str) -> None:
    reason = redirect_refusal(PUBLIC, ips(target))
    assert reason is not None and str(ipaddress.ip_address(target)) in reason
    assert redirect_refusal(PUBLIC, ips(target), allow_private=True) is None


def test_a_public_feed_may_redirect_to_public_addresses() -> None:
    assert redirect_refusal(PUBLIC, ips("8.8.8.8", "2606:4700::1111")) is None


def test_a_feed_may_move_within_the_class_of_its_own_address_and_nowhere_else() -> None:
    loopback = ips("127.0.0.1")
    assert redirect_refusal(loopback, ips("127.0.0.2")) is None
    assert redirect_refusal(loopback, ips("::1")) is None
    assert redirect_refusal(loopback, ips("8.8.8.8")) is None  # out to the internet is always fine
    assert "169.254.169.254 is a link-local address" in (redirect_refusal(loopback, ips("169.254.169.254")) or "")
    assert "10.0.0.1 is a private address" in (redirect_refusal(loopback, ips("10.0.0.1")) or "")
    office = ips("192.168.1.20")
    assert redirect_refusal(office, ips("10.0.0.1")) is None  # private to private: the operator's own networks
    assert redirect_refusal(office, ips("127.0.0.1")) is not None


def test_one_bad_address_among_several_refuses() -> None:
    # A host name that resolves to a public and a private address must not pass: the connection might use either.
    assert redirect_refusal(PUBLIC, ips("8.8.8.8", "10.0.0.1")) is not None


def test_an_unresolvable_origin_allows_only_global_targets() -> None:
    assert redirect_refusal([], ips("8.8.8.8")) is None
    assert redirect_refusal([], ips("127.0.0.1")) is not None
