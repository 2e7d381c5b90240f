"""Ports for the servers the tests start are chosen first and bound later, so
the choice must not be taken in between: never from the kernel's ephemeral range
(where any outgoing connection may be given it as its local port), never twice."""

from __future__ import annotations

from apps.devstack.ports import free_port


def _ephemeral_range() -> tuple[int, int]:
    with open("/proc/sys/net/ipv4/ip_local_port_range") as ranges:
        low, high = ranges.read().split()
    return int(low), int(high)


def test_free_ports_are_outside_the_ephemeral_range_and_never_repeat() -> None:
    low, high = _ephemeral_range()
    ports = [free_port() for _ in range(300)]
    assert len(set(ports)) == len(ports)
    assert not [port for port in ports if low <= port <= high]
