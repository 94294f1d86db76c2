"""The front's pieces that need no process: its PROXY line and the worker's reading of
it, gunicorn's command rewritten, the private socket path (gateway/front.py,
gateway/frontproc.py, gateway/worker.py)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from gateway.front import proxy_line
from gateway.frontproc import host_port, socket_path, split_bind
from gateway.worker import read_proxy_line


class _Sock:
    """recv() from a list of chunks, then b"" (closed)."""

    def __init__(self, *chunks: bytes) -> None:
        self.chunks = list(chunks)

    def recv(self, size: int) -> bytes:
        if not self.chunks:
            return b""
        chunk = self.chunks.pop(0)
        if len(chunk) > size:
            self.chunks.insert(0, chunk[size:])
        return chunk[:size]


def test_the_proxy_line_names_both_ends() -> None:
    assert proxy_line(("10.0.0.7", 5123), ("0.0.0.0", 8080)) == (
        b"PROXY TCP4 10.0.0.7 0.0.0.0 5123 8080\r\n"
    )
    line = proxy_line(("::1", 5123, 0, 0), ("::", 8080, 0, 0))
    assert line == b"PROXY TCP6 ::1 :: 5123 8080\r\n"
    assert proxy_line(None, None) == b"PROXY UNKNOWN\r\n"


def test_the_worker_reads_the_line_and_keeps_what_follows() -> None:
    sock = _Sock(b"PROXY TCP4 10.0.0.7 0.0.0.0 51", b"23 8080\r\nGET / HTTP/1.1\r\n")
    rest, peer, local = read_proxy_line(sock)
    assert (rest, peer, local) == (b"GET / HTTP/1.1\r\n", ("10.0.0.7", 5123), ("0.0.0.0", 8080))
    rest, peer, local = read_proxy_line(_Sock(proxy_line(("::1", 7), ("::", 80)) + b"x"))
    assert (rest, peer, local) == (b"x", ("::1", 7), ("::", 80))
    assert read_proxy_line(_Sock(b"PROXY UNKNOWN\r\n")) == (b"", None, None)


@pytest.mark.parametrize(
    "data",
    [
        b"GET / HTTP/1.1\r\nHost: h\r\n\r\n",  # no line at all
        b"PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n",  # a field missing
        b"PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n",
        b"PROXY TCP4 1.2.3.4 5.6.7.8 x 2\r\n",
        b"PROXY TCP4 " + b"1" * 200,  # no end within the longest line
        b"PROXY TCP4 1.2.3.4",  # closed before its end
    ],
)
def test_anything_else_is_refused(data: bytes) -> None:
    with pytest.raises(ValueError):
        read_proxy_line(_Sock(data))


def test_gunicorn_gets_the_unix_socket_in_place_of_the_first_bind() -> None:
    command = ["gunicorn", "app", "--bind", "0.0.0.0:8080", "--bind", "0.0.0.0:8443"]
    assert split_bind(command, "/s") == (
        ["gunicorn", "app", "--bind", "unix:/s", "--bind", "0.0.0.0:8443"],
        "0.0.0.0:8080",
    )
    assert split_bind(["g", "-b", "h:1"], "/s") == (["g", "-b", "unix:/s"], "h:1")
    assert split_bind(["g", "--bind=h:1"], "/s") == (["g", "--bind=unix:/s"], "h:1")
    with pytest.raises(SystemExit):
        split_bind(["g", "app"], "/s")
    assert host_port("127.0.0.1:80") == ("127.0.0.1", 80)
    assert host_port("[::1]:8080") == ("::1", 8080)
    assert host_port(":8080") == ("0.0.0.0", 8080)


def test_the_socket_is_in_a_directory_only_its_user_enters(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TSUBAME_DATA_DIR", str(tmp_path))
    path = Path(socket_path())
    assert path.parent.parent == tmp_path.resolve() / "run"
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    # A data directory too deep for a socket's path: a private temporary directory.
    deep = tmp_path / ("d" * 100)
    monkeypatch.setenv("TSUBAME_DATA_DIR", str(deep))
    path = Path(socket_path())
    assert len(str(path).encode()) < 108
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    os.rmdir(path.parent)


def test_the_fronts_limits_are_gunicorns() -> None:
    # The front decides which heads it serves with gunicorn's limits and times (those the
    # gateway's fast loop reads from gunicorn's configuration): the same values.
    import runpy

    from gunicorn.config import Config

    from gateway import front

    conf = runpy.run_path(str(Path(__file__).resolve().parents[2] / "deploy" / "gunicorn.py"))
    defaults = Config()
    for name, value in (
        ("limit_request_line", front.MAX_LINE),
        ("limit_request_fields", front.MAX_FIELDS),
        ("limit_request_field_size", front.MAX_FIELD),
        ("keepalive", front.KEEPALIVE),
        ("graceful_timeout", front.GRACE),
    ):
        assert conf.get(name, getattr(defaults, name)) == value, name
