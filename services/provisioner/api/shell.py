"""``GET /internal/apps/{app}/shell``: a shell beside one of the app's units, over the
connection apps opened (docs/runtime.md "Shell"). After ``101 Switching Protocols`` the
connection carries the terminal's raw bytes both ways until either side closes."""

from __future__ import annotations

import contextlib
import os
import select
import socket

from flask import Flask, Response, request

from services.provisioner.api import runtime_schemas as schemas
from services.provisioner.api.runtime_deps import runtime_stores, shells
from services.provisioner.domain.runtime_errors import InvalidCommand
from services.provisioner.operations.runtime.scheduler import pool_in, provisioner_in, shell_node
from services.provisioner.operations.runtime.shells import ShellOptions, Terminal, shell_request
from shared.golang.strconv import NumError, atoi, parse_bool
from shared.http import QUERY, Blueprint, extension, internal
from shared.http.websocket import HIJACKED, Hijacking, hijacked

bp = Blueprint("shell", __name__)

UPGRADE = "tsubame-shell"


@bp.record_once
def _install_hijacking(state: object) -> None:
    app: Flask = state.app  # type: ignore[attr-defined]
    app.wsgi_app = Hijacking(app.wsgi_app)  # type: ignore[method-assign]


def _int(name: str) -> int:
    try:
        return max(atoi(request.args.get(name, "")), 0)
    except NumError:
        return 0


def _options() -> ShellOptions:
    try:
        isolated = parse_bool(request.args.get("isolated", "") or "false")
    except NumError:
        isolated = False
    return ShellOptions(
        unit=request.args.get("unit", ""),
        isolated=isolated,
        width=_int("width"),
        height=_int("height"),
        term=request.args.get("term", ""),
    )


@bp.route("/internal/apps/<app>/shell", methods=["GET"])
@bp.input(schemas.ShellQuery, QUERY)
@bp.output(101, description="Switching Protocols: the terminal's bytes follow")
@bp.errors(
    {
        400: "Not an upgrade, or the app has no available unit",
        404: 'unit "<unit>" not found',
    }
)
@internal
def shell(app: str) -> Response:
    environ = request.environ
    sock = environ.get("gunicorn.socket")
    connection = str(environ.get("HTTP_CONNECTION", "")).lower()
    if "upgrade" not in connection or environ.get("HTTP_UPGRADE", "").lower() != UPGRADE:
        raise InvalidCommand(f"a shell needs Connection: Upgrade and Upgrade: {UPGRADE}")
    if sock is None:
        raise InvalidCommand("this server cannot hand its connection over")
    opts = _options()
    stores = runtime_stores()
    deps = extension("deps")
    req = shell_request(
        stores,
        app,
        opts,
        lambda rt: shell_node(deps.stores, deps.config.default_provisioner, stores.units.all(), rt),
        lambda rt: provisioner_in(
            deps.stores, deps.config.default_provisioner, pool_in(deps.stores, rt)
        ),
    )
    opener = shells()
    with opener.open(req, width=opts.width, height=opts.height, term=opts.term) as terminal:
        sock.sendall(
            f"HTTP/1.1 101 Switching Protocols\r\nUpgrade: {UPGRADE}\r\n"
            "Connection: Upgrade\r\n\r\n".encode("latin-1")
        )
        environ[HIJACKED] = True
        relay(sock, terminal)
    return hijacked()


def relay(sock: socket.socket, terminal: Terminal) -> None:
    """Bytes both ways until the client closes or the shell ends."""
    fd, peer = terminal.fd, sock.fileno()
    os.set_blocking(fd, False)
    while True:
        readable, _, _ = select.select([peer, fd], [], [], 1.0)
        if not readable and not terminal.alive():
            return
        if fd in readable:
            try:
                data = os.read(fd, 65536)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:  # EIO: the shell and everything on its terminal ended
                return
            if not data:
                return
            try:
                sock.sendall(data)
            except OSError:
                return
        if peer in readable:
            try:
                data = sock.recv(65536)
            except OSError:
                return
            if not data:
                return
            with contextlib.suppress(BlockingIOError):
                _write_all(fd, data)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            written = os.write(fd, view)
        except BlockingIOError:
            select.select([], [fd], [], 1.0)
            continue
        view = view[written:]
