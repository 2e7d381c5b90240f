"""The client address a service sees (login throttling, the audit, logs).

Only a trusted proxy may name the client: a request whose connection comes from an
address in ``FORWARDED_ALLOW_IPS`` (in a cluster, the pod network, which the
NetworkPolicies narrow to the Gateway's Envoy pods and the calling services) gets the
*rightmost* ``X-Forwarded-For`` entry, the one that proxy appended from the connection
it saw. Nothing to the left of it is read, and no other peer's header counts at all.

uvicorn's own ``proxy_headers`` is not used: it walks the header from the right past
every trusted address, so when the address the proxy appended is itself inside a
trusted network (a load balancer's address inside the VPC), it goes on to whatever
the client wrote (docs/adr/0015-client-address-and-edge-tls.md).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from starlette.types import ASGIApp, Receive, Scope, Send

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def trusted_networks(value: str) -> tuple[Network, ...]:
    """``FORWARDED_ALLOW_IPS``: comma-separated addresses or networks; empty trusts nobody."""
    items = [item.strip() for item in value.split(",") if item.strip()]
    return tuple(ipaddress.ip_network(item, strict=False) for item in items)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def forwarded_client(
    peer: str, forwarded_for: Sequence[str], trusted: Sequence[Network]
) -> str | None:
    """The client address a trusted ``peer`` reports (the last entry of the
    X-Forwarded-For header lines, joined in order), or None to keep the peer."""
    peer_address = _address(peer)
    if peer_address is None or not any(peer_address in network for network in trusted):
        return None
    entries = [entry for line in forwarded_for for entry in line.split(",")]
    if not entries:
        return None
    last = _address(entries[-1])
    return str(last) if last is not None else None


class ForwardedClientMiddleware:
    """Sets the ASGI scope's client to what a trusted proxy says (see the module doc)."""

    def __init__(self, app: ASGIApp, *, trusted: str) -> None:
        self.app = app
        self.trusted = trusted_networks(trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client")
        if scope["type"] in ("http", "websocket") and self.trusted and client:
            lines = [
                value.decode("latin-1")
                for name, value in scope["headers"]
                if name.lower() == b"x-forwarded-for"
            ]
            address = forwarded_client(client[0], lines, self.trusted)
            if address is not None:
                scope = {**scope, "client": (address, 0)}
        await self.app(scope, receive, send)
