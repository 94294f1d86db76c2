"""A unit is ready when its own app listens on its port (the runner's probe)."""

from __future__ import annotations

import os
import socket

from services.provisioner.backends.process import probe


def test_a_port_is_ready_once_a_socket_of_the_units_user_listens_there() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        port = server.getsockname()[1]
        assert not probe.accepts(port)  # bound, not listening: refused
        assert not probe.listening(port, os.getuid())
        server.listen()
        assert probe.accepts(port)
        assert probe.listening(port, os.getuid())
        assert not probe.listening(port, os.getuid() + 1)  # a neighbour's port
    assert not probe.accepts(port)
