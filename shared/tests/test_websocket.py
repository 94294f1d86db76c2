"""The websocket server of the shell route (shared/http/websocket.py), over a real
socket pair: handshake, framing, control frames, limits, hijacking."""

from __future__ import annotations

import os
import socket
import struct
from collections.abc import Iterator

import pytest

from shared.http.websocket import (
    HIJACKED,
    Closed,
    HandshakeError,
    Hijacking,
    WebSocket,
    accept,
    accept_key,
)

KEY = "dGhlIHNhbXBsZSBub25jZQ=="


def client_frame(opcode: int, payload: bytes, *, fin: bool = True, masked: bool = True) -> bytes:
    head = bytes([(0x80 if fin else 0) | opcode])
    size = len(payload)
    bit = 0x80 if masked else 0
    if size < 126:
        head += bytes([bit | size])
    elif size < 1 << 16:
        head += bytes([bit | 126]) + struct.pack("!H", size)
    else:
        head += bytes([bit | 127]) + struct.pack("!Q", size)
    if not masked:
        return head + payload
    mask = os.urandom(4)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def read_frame(sock: socket.socket) -> tuple[int, bytes]:
    def exact(n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = sock.recv(n - len(data))
            assert chunk, "closed"
            data += chunk
        return data

    b1, b2 = exact(2)
    size = b2 & 0x7F
    if size == 126:
        (size,) = struct.unpack("!H", exact(2))
    elif size == 127:
        (size,) = struct.unpack("!Q", exact(8))
    return b1 & 0x0F, exact(size)


@pytest.fixture()
def pair() -> Iterator[tuple[WebSocket, socket.socket]]:
    server, client = socket.socketpair()
    server.settimeout(5)
    client.settimeout(5)
    yield WebSocket(server, max_message=1000), client
    server.close()
    client.close()


def handshake_environ(sock: socket.socket, **over: str) -> dict[str, object]:
    env: dict[str, object] = {
        "REQUEST_METHOD": "GET",
        "HTTP_CONNECTION": "keep-alive, Upgrade",
        "HTTP_UPGRADE": "websocket",
        "HTTP_SEC_WEBSOCKET_KEY": KEY,
        "HTTP_SEC_WEBSOCKET_VERSION": "13",
        "gunicorn.socket": sock,
    }
    env.update(over)
    return env


def test_accept_answers_rfc_6455s_example() -> None:
    assert accept_key(KEY) == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    server, client = socket.socketpair()
    with server, client:
        env = handshake_environ(server)
        accept(env)
        head = client.recv(4096).decode()
        assert head.startswith("HTTP/1.1 101 Switching Protocols\r\n")
        assert "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" in head
        assert env[HIJACKED] is True


@pytest.mark.parametrize(
    "over",
    [
        {"HTTP_UPGRADE": "h2c"},
        {"REQUEST_METHOD": "POST"},
        {"HTTP_SEC_WEBSOCKET_KEY": "short"},
        {"HTTP_SEC_WEBSOCKET_KEY": "!!!not base64!!!"},
        {"HTTP_SEC_WEBSOCKET_VERSION": "8"},
        {"HTTP_CONNECTION": "close"},
    ],
)
def test_accept_refuses_what_is_not_a_handshake(over: dict[str, str]) -> None:
    server, client = socket.socketpair()
    with server, client:
        with pytest.raises(HandshakeError):
            accept(handshake_environ(server, **over))
    with pytest.raises(HandshakeError):
        accept({"REQUEST_METHOD": "GET"})  # no socket to take over


def test_text_binary_and_fragmented_messages(pair: tuple[WebSocket, socket.socket]) -> None:
    ws, client = pair
    client.sendall(client_frame(0x1, "héllo ✓".encode()))
    assert ws.receive() == "héllo ✓"
    client.sendall(client_frame(0x2, b"\x00\xff"))
    assert ws.receive() == b"\x00\xff"
    client.sendall(client_frame(0x1, b"ab", fin=False) + client_frame(0x9, b"p"))
    client.sendall(client_frame(0x0, b"cd", fin=False) + client_frame(0x0, b"e"))
    assert ws.receive() == "abcde"  # the ping in between was answered
    assert read_frame(client) == (0xA, b"p")


def test_server_frames_of_every_size(pair: tuple[WebSocket, socket.socket]) -> None:
    ws, client = pair
    for size in (0, 125, 126, 65535, 65536):
        ws.send_text("x" * size)
        assert read_frame(client) == (0x1, b"x" * size)


def test_close_is_answered_and_ends_receive(pair: tuple[WebSocket, socket.socket]) -> None:
    ws, client = pair
    client.sendall(client_frame(0x8, struct.pack("!H", 1000)))
    with pytest.raises(Closed):
        ws.receive()
    assert read_frame(client)[0] == 0x8
    with pytest.raises(Closed):
        ws.send_text("late")


@pytest.mark.parametrize(
    "frame,code",
    [
        (client_frame(0x1, b"x", masked=False), 1002),
        (client_frame(0x1, b"x" * 1001), 1009),
        (client_frame(0x0, b"orphan"), 1002),
        (client_frame(0x1, b"\xff\xfe"), 1007),
        (client_frame(0x9, b"x" * 126), 1002),
    ],
)
def test_protocol_errors_close_with_their_code(
    pair: tuple[WebSocket, socket.socket], frame: bytes, code: int
) -> None:
    ws, client = pair
    client.sendall(frame)
    with pytest.raises(Closed):
        ws.receive()
    opcode, payload = read_frame(client)
    assert opcode == 0x8 and struct.unpack("!H", payload[:2])[0] == code


def test_peer_gone_ends_receive(pair: tuple[WebSocket, socket.socket]) -> None:
    ws, client = pair
    client.sendall(client_frame(0x1, b"abc")[:3])
    client.close()
    with pytest.raises(Closed):
        ws.receive()


def test_hijacking_turns_a_taken_over_request_into_stop_iteration() -> None:
    closed = []

    class Result(list[bytes]):
        def close(self) -> None:
            closed.append(True)

    def app(environ, start_response):  # type: ignore[no-untyped-def]
        environ[HIJACKED] = environ.get("take")
        return Result([b"x"])

    wrapped = Hijacking(app)
    assert list(wrapped({}, lambda *a: None)) == [b"x"]
    with pytest.raises(StopIteration):
        wrapped({"take": True}, lambda *a: None)
    assert closed == [True]
