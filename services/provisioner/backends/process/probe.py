"""Is a unit ready: does its own app listen on its port? Standard library only, light:
the unit runner imports it."""

from __future__ import annotations

import socket


def accepts(port: int) -> bool:
    """Something accepts connections at 127.0.0.1:``port`` (where the gateway sends the
    unit's traffic)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(1.0)
        try:
            s.connect(("127.0.0.1", port))
        except OSError:
            return False
    return True


def listening(port: int, uid: int) -> bool:
    """A socket of ``uid`` listens on ``port``: the unit's own app, not a neighbour that
    grabbed the port while the unit was down (it would get the unit's traffic)."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f, None)
                for line in f:
                    fields = line.split()
                    if (
                        len(fields) > 7
                        and fields[3] == "0A"  # LISTEN
                        and int(fields[1].rpartition(":")[2], 16) == port
                        and int(fields[7]) == uid
                    ):
                        return True
        except (OSError, ValueError):
            continue
    return False
