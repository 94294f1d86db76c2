"""The hot path's reads and writes (gateway/sockio.py) on gevent's sockets, and the
fallback to a socket's own methods for any other socket."""

from __future__ import annotations

import socket
import time

import gevent
import gevent.socket
import pytest

from gateway.sockio import Deadline, is_fast, recv_now, recv_waiting, send_all


def _pair() -> tuple[gevent.socket.socket, gevent.socket.socket]:
    a, b = gevent.socket.socketpair()
    a.settimeout(5)
    b.settimeout(5)
    return a, b


def _read_all(sock: gevent.socket.socket, size: int) -> bytes:
    got = bytearray()
    while len(got) < size:
        data = sock.recv(1 << 20)
        assert data, "closed early"
        got += data
    return bytes(got)


def test_only_gevents_plain_socket_is_fast() -> None:
    a, b = _pair()
    plain, other = socket.socketpair()
    try:
        assert is_fast(a)
        assert not is_fast(plain)
    finally:
        for s in (a, b, plain, other):
            s.close()


@pytest.mark.parametrize("size", [1, 5000, 8 * 1024 * 1024])
def test_send_all_sends_every_byte_even_past_the_send_buffer(size: int) -> None:
    a, b = _pair()
    data = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    reader = gevent.spawn(_read_all, b, len(data))
    send_all(a, data)  # a large one fills the buffer: gevent waits for the reader
    assert reader.get(timeout=10) == data
    a.close()
    b.close()


def test_recv_waiting_waits_for_the_bytes_and_recv_now_takes_those_there() -> None:
    a, b = _pair()
    gevent.spawn_later(0.05, b.sendall, b"late")
    started = time.monotonic()
    assert recv_waiting(a, 100, Deadline(5)) == b"late"
    assert time.monotonic() - started >= 0.04
    b.sendall(b"there")
    gevent.sleep(0.01)
    assert recv_now(a, 100) == b"there"
    b.close()
    assert recv_now(a, 100) == b""  # the peer closed
    assert recv_waiting(a, 100) == b""
    a.close()


def test_a_deadline_bounds_each_wait_and_serves_again() -> None:
    a, b = _pair()
    deadline = Deadline(0.1)
    for _ in range(2):
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            recv_waiting(a, 100, deadline)
        assert 0.08 <= time.monotonic() - started < 2
    b.sendall(b"now")
    assert recv_waiting(a, 100, deadline) == b"now"
    # Each wait gets the whole time again: waits of 0.06 s add up past 0.1 s.
    for _ in range(3):
        gevent.spawn_later(0.06, b.sendall, b"in time")
        assert recv_waiting(a, 100, deadline) == b"in time"
    # A wait that ended in time leaves no timeout armed behind it.
    gevent.sleep(0.2)
    deadline.close()
    a.close()
    b.close()


def test_no_deadline_waits_as_long_as_it_takes() -> None:
    a, b = _pair()
    a.settimeout(0.05)  # the socket's own timeout does not bound these reads
    gevent.spawn_later(0.2, b.sendall, b"slow")
    assert recv_now(a, 100) == b"slow"
    a.close()
    b.close()


def test_other_sockets_use_their_own_methods_and_timeout() -> None:
    a, b = socket.socketpair()
    a.settimeout(0.1)
    try:
        send_all(b, b"hello")
        assert recv_waiting(a, 100, Deadline(5)) == b"hello"
        with pytest.raises(TimeoutError):
            recv_now(a, 100)
    finally:
        a.close()
        b.close()


def test_a_wait_begun_late_in_the_timers_run_still_gets_its_whole_time() -> None:
    # The timer keeps running across waits: one armed by a wait at t=0 fires at 0.2 s.
    # A wait begun at ~0.15 s must not end then but 0.2 s after its own start.
    a, b = _pair()
    deadline = Deadline(0.2)
    gevent.spawn_later(0.15, b.sendall, b"first")
    assert recv_waiting(a, 100, deadline) == b"first"
    gevent.spawn_later(0.15, b.sendall, b"second")  # at ~0.30 s, past the first's 0.2
    assert recv_waiting(a, 100, deadline) == b"second"
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        recv_waiting(a, 100, deadline)
    assert time.monotonic() - started >= 0.19
    deadline.close()
    a.close()
    b.close()


def test_a_deadline_that_runs_out_between_waits_throws_nothing() -> None:
    a, b = _pair()
    deadline = Deadline(0.05)
    b.sendall(b"at once")
    assert recv_waiting(a, 100, deadline) == b"at once"
    gevent.sleep(0.15)  # the timer fires here, nobody waiting: no TimeoutError
    gevent.spawn_later(0.03, b.sendall, b"again")
    assert recv_waiting(a, 100, deadline) == b"again"
    deadline.close()
    a.close()
    b.close()
