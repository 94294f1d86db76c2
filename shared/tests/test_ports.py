"""Listening ports are chosen outside the range outgoing connections use."""

from __future__ import annotations

import socket

from shared import ports


def _ephemeral_low() -> int:
    return int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])


def test_ports_come_from_below_the_ephemeral_range_and_are_bindable() -> None:
    low = _ephemeral_low()
    chosen = [ports.free_port() for _ in range(50)]
    assert all(10000 <= p < low for p in chosen)
    for port in chosen[:5]:
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))


def test_one_process_never_hands_out_a_port_twice() -> None:
    chosen = [ports.free_port() for _ in range(300)]
    assert len(set(chosen)) == len(chosen)


def test_a_port_someone_listens_on_is_not_chosen() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        assert not ports.bindable("127.0.0.1", busy)
