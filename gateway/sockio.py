"""Reads and writes of the gateway's hot path, with fewer calls than gevent's own.

The gateway's throughput is its CPU per request, and on a proxied request gevent's
general socket methods cost about as much as the gateway's own work on it (profiled
under load, bench/gateway.py):

* ``sendall()`` asks the kernel for the send buffer's size (a ``getsockopt`` per call)
  and slices the data by it; ``send_all`` here tries one ``send()`` of the whole
  buffer, which takes a small request or answer at once, and hands any rest to gevent;
* ``recv()`` tries the read first, so a read that must wait (nearly every one on a
  keep-alive connection: the answer of a request just sent, the next request of a
  client just answered) costs a failed system call and an exception before it waits;
  ``recv_waiting`` waits for the socket to be readable first (gevent's loop is level
  triggered: bytes already there end the wait at once);
* a socket with a timeout builds and starts a new ``Timeout`` for each wait;
  ``Deadline`` is one timer per connection, armed around each wait.

Only gevent's plain TCP socket class gets this (its wrapped, non-blocking socket is
``_sock`` and its read watcher ``_read_event``: gevent's own attributes, used by its
own methods the same way); any other socket (a TLS one, a standard one in unit tests)
gets its own ``sendall`` and ``recv`` under its own timeout.
"""

from __future__ import annotations

from typing import Any

from gevent import get_hub, getcurrent
from gevent.socket import socket as GeventSocket


class Deadline:
    """At most ``seconds`` for each wait it guards, ``TimeoutError`` after; reusable.

    One libev timer, armed afresh by each ``start()`` (``again()``: a repeating timer
    restarted from now; a gevent ``Timeout`` started again only resumes what is left of
    its time) and stopped by ``cancel()``. Made on first use, in the hub of the thread
    using it; ``None`` seconds: no limit.
    """

    __slots__ = ("seconds", "_timer")

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self._timer: Any = None

    def start(self) -> None:
        if self.seconds is None:
            return
        timer = self._timer
        if timer is None:
            seconds = max(self.seconds, 1e-6)  # a repeat of 0 would never fire
            timer = self._timer = get_hub().loop.timer(seconds, seconds)
        timer.again(getcurrent().throw, TimeoutError)

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.stop()

    def close(self) -> None:
        if self._timer is not None:
            self._timer.close()
            self._timer = None


def is_fast(sock: Any) -> bool:
    """Whether ``sock`` is gevent's plain socket (the one these helpers speed up)."""
    return type(sock) is GeventSocket


def send_all(sock: Any, data: bytes) -> None:
    """``sock.sendall(data)``, in one ``send()`` when the kernel takes it all."""
    if type(sock) is not GeventSocket or not data:
        sock.sendall(data)
        return
    try:
        sent: int = sock._sock.send(data)
    except BlockingIOError:  # the send buffer is full: gevent waits for room
        sent = 0
    if sent < len(data):
        sock.sendall(memoryview(data)[sent:])


def recv_waiting(sock: Any, size: int, deadline: Deadline | None = None) -> bytes:
    """Up to ``size`` bytes, waiting for readability first (for a read that usually
    must wait). ``deadline``: the limit of the wait (TimeoutError); a socket that is
    not gevent's plain one waits under its own timeout instead."""
    if type(sock) is not GeventSocket:
        return sock.recv(size)  # type: ignore[no-any-return]
    raw = sock._sock
    while True:
        if deadline is not None:
            deadline.start()
            try:
                sock.hub.wait(sock._read_event)
            finally:
                deadline.cancel()
        else:
            sock.hub.wait(sock._read_event)
        try:
            return raw.recv(size)  # type: ignore[no-any-return]
        except BlockingIOError:  # woken with nothing to read after all: wait again
            continue


def recv_now(sock: Any, size: int, deadline: Deadline | None = None) -> bytes:
    """Up to ``size`` bytes: those already there, else as ``recv_waiting``."""
    if type(sock) is not GeventSocket:
        return sock.recv(size)  # type: ignore[no-any-return]
    try:
        return sock._sock.recv(size)  # type: ignore[no-any-return]
    except BlockingIOError:
        return recv_waiting(sock, size, deadline)
