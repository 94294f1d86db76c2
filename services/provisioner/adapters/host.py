"""This machine, for leases: its name, this process, whether another pid lives."""

from __future__ import annotations

import os
import socket


class LocalHost:
    def __init__(self) -> None:
        self.name = socket.gethostname()
        self.pid = os.getpid()

    def alive(self, pid: int) -> bool:
        if pid <= 0:
            return False
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
