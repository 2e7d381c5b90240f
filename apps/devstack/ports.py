"""Free TCP ports on the loopback interface, for servers the local platform and
the tests start.

A port is chosen first and bound later (by a child process), so the choice must
not be taken in between. Ports are therefore picked below the kernel's ephemeral
range (`net.ipv4.ip_local_port_range`, 32768-60999 by default), where no outgoing
connection is ever given a local port; at random, so that two test sessions on
one machine rarely try the same one; never twice in one process; and only after a
bind shows the port free. Fixed ports such as 27017 are never assumed free."""

from __future__ import annotations

import random
import socket
import threading

LOWEST = 20_000
_handed_out: set[int] = set()
_lock = threading.Lock()


def _ephemeral_floor() -> int:
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as ranges:
            return int(ranges.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768


def free_port() -> int:
    """A port nobody listens on now, outside the ephemeral range, not handed out
    before by this process."""
    highest = max(_ephemeral_floor() - 1, LOWEST + 1_000)
    with _lock:
        for _ in range(200):
            port = random.randint(LOWEST, highest)  # noqa: S311 - not a secret
            if port not in _handed_out and port_is_free(port):
                _handed_out.add(port)
                return port
    raise RuntimeError(f"no free port between {LOWEST} and {highest}")


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True
