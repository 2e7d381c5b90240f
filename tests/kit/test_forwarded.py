"""FORWARDED_ALLOW_IPS: which peers may name the client, and which entry is read."""

from __future__ import annotations

import pytest
from pydantic import SecretStr, ValidationError

from apps.kit.forwarded import forwarded_client, trusted_networks
from apps.kit.settings import ServiceSettings

POD_NETWORK = trusted_networks("10.0.0.0/16")


def test_only_the_rightmost_entry_from_a_trusted_peer_counts() -> None:
    assert forwarded_client("10.0.3.4", ["6.6.6.6, 203.0.113.7"], POD_NETWORK) == "203.0.113.7"
    # Several header lines are one list, in order.
    assert forwarded_client("10.0.3.4", ["6.6.6.6", "203.0.113.7"], POD_NETWORK) == "203.0.113.7"
    # The appended hop is inside the trusted network: still that hop, never the client's.
    assert forwarded_client("10.0.3.4", ["6.6.6.6, 10.0.9.9"], POD_NETWORK) == "10.0.9.9"
    assert forwarded_client("10.0.3.4", ["2001:db8::1"], POD_NETWORK) == "2001:db8::1"


@pytest.mark.parametrize(
    ("peer", "lines"),
    [
        ("198.51.100.1", ["203.0.113.7"]),  # not a trusted peer
        ("10.0.3.4", []),  # no header
        ("10.0.3.4", ["6.6.6.6, garbage"]),  # the last entry is not an address
        ("10.0.3.4", ["6.6.6.6,"]),
    ],
)
def test_the_connection_address_stays(peer: str, lines: list[str]) -> None:
    assert forwarded_client(peer, lines, POD_NETWORK) is None


def test_nobody_is_trusted_by_default() -> None:
    settings = ServiceSettings(
        service_name="probe", mongo_url=SecretStr("mongodb://localhost"), mongo_database="x"
    )
    assert trusted_networks(settings.forwarded_allow_ips) == ()
    assert forwarded_client("127.0.0.1", ["6.6.6.6"], ()) is None


def test_a_bad_network_is_a_settings_error() -> None:
    with pytest.raises(ValidationError, match="forwarded_allow_ips"):
        ServiceSettings(
            service_name="probe",
            mongo_url=SecretStr("mongodb://localhost"),
            mongo_database="x",
            forwarded_allow_ips="10.0.0.0/16, pods",
        )
