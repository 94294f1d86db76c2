"""``GET /apps/{appname}/shell`` (apps.md §9.2): tsuru's interactive shell websocket.

Served without a token at the gateway: tsuru upgrades first and reports a missing
token, a missing app or a refused permission as an ``Error: ...`` text frame
(operations/shell.py). The connection is taken over after the handshake
(shared/http/websocket.py).
"""

from __future__ import annotations

from flask import Flask, Response, request

from services.apps.api.deploy_schemas import ShellQuery
from services.apps.api.deps import deps
from services.apps.operations import shell
from services.apps.operations.deps import ShellOptions
from shared.errors import Invalid
from shared.golang.strconv import NumError, atoi, parse_bool
from shared.http import QUERY, Blueprint, current_identity, public
from shared.http.websocket import HandshakeError, Hijacking, accept, hijacked

bp = Blueprint("shell", __name__)


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
        isolated = parse_bool(request.args.get("isolated", ""))
    except NumError:
        isolated = False
    return ShellOptions(
        unit=request.args.get("unit", ""),
        isolated=isolated,
        width=_int("width"),
        height=_int("height"),
        term=request.args.get("term", ""),
    )


# werkzeug routes a websocket handshake (``Connection: Upgrade``, ``Upgrade: websocket``)
# only to rules marked ``websocket``; a plain GET reaches the same view through the
# second rule and is refused there (tsuru's websocket handler answers it 400 too).
@bp.route("/apps/<appname>/shell", methods=["GET"], websocket=True)
@bp.route("/apps/<appname>/shell", methods=["GET"], endpoint="app_shell_plain")
@bp.input(ShellQuery, QUERY)
@bp.output(101, description="Switching Protocols: the shell's websocket")
@bp.errors({400: "Not a websocket handshake"})
@public
def app_shell(appname: str) -> Response:
    # tsuru's websocket handler: errors, the missing token included, come as frames.
    try:
        ws = accept(request.environ)
    except HandshakeError as exc:
        raise Invalid(f"websocket: {exc}") from exc
    shell.shell(deps(), current_identity(), appname, _options(), ws)
    return hijacked()
