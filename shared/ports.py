"""Free listening ports that outgoing connections never take.

``bind(0)`` hands out a port from the kernel's ephemeral range, the same range every
outgoing TCP connection draws its local port from: between choosing a port and the
server binding it, a busy machine (a test suite, a stack making thousands of upstream
connections) can give that very port to an outgoing socket, and the server fails with
EADDRINUSE. Listening ports are therefore chosen at random *below* the ephemeral range,
checked by a bind, and never handed out twice by one process.
"""

from __future__ import annotations

import _thread
import os
import socket

# Standard modules only, and light ones (no random, threading or pathlib): every app
# unit's runner imports this module and stays up as long as its unit.
_EPHEMERAL_RANGE = "/proc/sys/net/ipv4/ip_local_port_range"
_LOWEST = 10000
_given: set[tuple[str, int]] = set()
_mutex = _thread.allocate_lock()


def _candidates() -> range | None:
    try:
        with open(_EPHEMERAL_RANGE) as f:
            low = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    if low - _LOWEST < 1000:
        return None
    return range(_LOWEST, low)


def bindable(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        # As servers bind: a port whose old connections linger in TIME_WAIT is free.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on, outside the ephemeral range when the system has room."""
    candidates = _candidates()
    with _mutex:
        if candidates is not None:
            for _ in range(200):
                port = candidates[int.from_bytes(os.urandom(4), "big") % len(candidates)]
                if (host, port) not in _given and bindable(host, port):
                    _given.add((host, port))
                    return port
        # No room below the ephemeral range (or all tries taken): the kernel's choice.
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind((host, 0))
            port = int(s.getsockname()[1])
        _given.add((host, port))
        return port
