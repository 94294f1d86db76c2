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
  ``Deadline`` is one timer per connection, left running across its waits.

Only gevent's plain TCP socket class gets this (its wrapped, non-blocking socket is
``_sock`` and its read watcher ``_read_event``: gevent's own attributes, used by its
own methods the same way); any other socket (a TLS one, a standard one in unit tests)
gets its own ``sendall`` and ``recv`` under its own timeout.
"""

from __future__ import annotations

from time import monotonic
from typing import Any

from gevent import get_hub, getcurrent
from gevent.socket import socket as GeventSocket


class Deadline:
    """At most ``seconds`` for each wait it guards, ``TimeoutError`` after; reusable.

    One libev timer per connection, left running across waits: ``start()`` notes when
    the wait began and who waits, ``cancel()`` that nobody does. When the timer fires
    it throws into the waiter only if that wait is ``seconds`` old; a younger wait
    gets the timer again for the rest of its time, and a timer that fires while
    nobody waits stays stopped until the next ``start()``. So a busy connection costs
    no timer call per wait (restarting a libev timer on each wait, then stopping it,
    was a tenth of the gateway's Python time per proxied request), and no wait ends
    early. Made on first use, in the hub of the thread using it; ``None`` seconds: no
    limit.
    """

    __slots__ = ("seconds", "_timer", "_after", "_armed", "_since", "_waiter")

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self._timer: Any = None
        self._after = 0.0  # the delay the timer was made with
        self._armed = False
        self._since = 0.0
        self._waiter: Any = None

    def start(self) -> None:
        seconds = self.seconds
        if seconds is None:
            return
        self._since = monotonic()
        self._waiter = getcurrent()
        if not self._armed:
            self._arm(seconds)

    def cancel(self) -> None:
        self._waiter = None

    def _arm(self, after: float) -> None:
        after = max(after, 1e-6)
        timer = self._timer
        if timer is None or self._after != after:
            if timer is not None:
                timer.close()
            timer = self._timer = get_hub().loop.timer(after)
            self._after = after
        timer.start(self._expire)
        self._armed = True

    def _expire(self) -> None:
        self._armed = False
        waiter = self._waiter
        if waiter is None or self.seconds is None:
            return  # nobody waits: the next start() arms it again
        left = self._since + self.seconds - monotonic()
        if left > 0:
            self._arm(left)  # a wait that began after the timer did: the rest of its time
            return
        self._waiter = None
        waiter.throw(TimeoutError)

    def close(self) -> None:
        self._waiter = None
        self._armed = False
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
