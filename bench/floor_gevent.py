"""A bare gevent HTTP/1.1 reverse proxy: the floor of a gevent design (bench/gateway_floor.py).

    python -m bench.floor_gevent --port 8001 --upstream http://127.0.0.1:8002

No routing, authentication, metrics, WSGI or validation: it reads a request head
(requests without a body only), rewrites the headers a proxy must (hop-by-hop ones
dropped, ``X-Forwarded-For`` added), sends it over a pooled keep-alive connection,
reads the answer (``Content-Length`` framing only) and writes it back with its head
rebuilt. Every socket call goes through the gateway's own helpers (gateway/sockio.py:
one ``send()`` per message, a wait before a read that must wait), so this is what the
gateway's design costs with none of the gateway's work on top. One process.
"""

from __future__ import annotations

import argparse
import sys
from urllib.parse import urlsplit

from gevent import socket
from gevent.server import StreamServer

from gateway.sockio import recv_now, recv_waiting, send_all

RECV = 65536
HOP = frozenset(
    b"connection keep-alive proxy-connection te trailer transfer-encoding upgrade".split()
)


class Proxy:
    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self.addr = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.idle: list[socket.socket] = []

    def _connect(self) -> socket.socket:
        sock = socket.create_connection(self.addr)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def handle(self, client: socket.socket, addr: tuple[str, int]) -> None:
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        forwarded = b"X-Forwarded-For: " + addr[0].encode()
        buf = b""
        fresh = True
        try:
            while True:
                end = buf.find(b"\r\n\r\n")
                while end < 0:
                    data = recv_now(client, RECV) if fresh else recv_waiting(client, RECV)
                    fresh = False
                    if not data:
                        return
                    buf += data
                    end = buf.find(b"\r\n\r\n")
                head, buf = buf[:end], buf[end + 4 :]
                lines = head.split(b"\r\n")
                out = [lines[0]]
                for line in lines[1:]:
                    if line.split(b":", 1)[0].lower() not in HOP:
                        out.append(line)
                out.append(forwarded)
                answer = self.exchange(b"\r\n".join(out) + b"\r\n\r\n")
                send_all(client, answer)
        finally:
            client.close()

    def exchange(self, request: bytes) -> bytes:
        """The upstream's answer to ``request``, its head rebuilt; the connection pooled."""
        pooled = bool(self.idle)
        up = self.idle.pop() if pooled else self._connect()
        buf = b""
        end = -1
        try:
            send_all(up, request)
            data = recv_waiting(up, RECV)
        except ConnectionError:
            data = b""
        if not data and pooled:
            # Closed by the upstream while idle (its keep-alive timeout): a fresh one.
            up.close()
            up = self._connect()
            send_all(up, request)
            data = recv_waiting(up, RECV)
        while True:
            if not data:
                up.close()
                return b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n"
            buf += data
            end = buf.find(b"\r\n\r\n")
            if end >= 0:
                break
            data = recv_waiting(up, RECV)
        lines = buf[:end].split(b"\r\n")
        body = buf[end + 4 :]
        out = [lines[0]]
        length = 0
        keep = True
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            lname = name.lower()
            if lname == b"content-length":
                length = int(value)
            elif lname in HOP:
                keep = keep and not (lname == b"connection" and b"close" in value.lower())
                continue
            out.append(line)
        while len(body) < length:
            data = recv_waiting(up, RECV)
            if not data:
                up.close()
                return b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n"
            body += data
        if keep:
            self.idle.append(up)
        else:
            up.close()
        return b"\r\n".join(out) + b"\r\n\r\n" + body


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True)
    args = parser.parse_args(argv)
    proxy = Proxy(args.upstream)
    StreamServer(("127.0.0.1", args.port), proxy.handle, backlog=1024).serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
