"""Administrators' pages: pools, plans, platforms, nodes and the units on each node.

The API decides who may see them (403 shows as an error page); the menu offers them
to holders of a global pool, plan, platform or node permission.
"""

from __future__ import annotations

from typing import Any

from flask import Response

from services.web.api.deps import deps
from services.web.api.pages import page
from services.web.api.render import page as render
from services.web.api.render import seg, url
from services.web.api.security import PREFIX, signed_in
from services.web.domain.present import unit_address
from services.web.domain.session import Session
from services.web.operations import admin as ops
from shared.http import Blueprint

bp = Blueprint("web_admin", __name__, url_prefix=PREFIX)


def _mb(value: Any) -> str:
    return f"{int(value) // (1024 * 1024)} MiB" if isinstance(value, int) and value > 0 else "-"


def _names(values: Any) -> str:
    return ", ".join(str(v) for v in values or [])


def _table(session: Session, what: str) -> tuple[list[str], list[list[Any]]]:
    rows = ops.listing(deps(), session, what)
    if what == "pools":
        return ["Pool", "Default", "Public", "Provisioner", "Teams"], [
            [
                p.get("name"),
                p.get("default"),
                p.get("public"),
                p.get("provisioner"),
                _names(p.get("teams")),
            ]
            for p in rows
        ]
    if what == "plans":
        return ["Plan", "Memory", "Swap", "CPU (milli)", "Default"], [
            [
                p.get("name"),
                _mb(p.get("memory")),
                _mb(p.get("swap")),
                p.get("cpumilli"),
                p.get("default", False),
            ]
            for p in rows
        ]
    return ["Platform", "Disabled"], [[p.get("Name"), p.get("Disabled", False)] for p in rows]


@bp.route("/admin/<any(pools, plans, platforms):what>", methods=["GET"])
@page("Pools, plans or platforms")
@signed_in
def listing(session: Session, what: str) -> Response:
    columns, rows = _table(session, what)
    return render("admin_list.html", title=what.capitalize(), columns=columns, rows=rows)


@bp.route("/admin/nodes", methods=["GET"])
@page("The provisioner's nodes")
@signed_in
def nodes(session: Session) -> Response:
    rows = []
    for node in ops.nodes(deps(), session):
        address = str(node.get("Address", ""))
        rows.append(
            [
                {"href": url("/admin/nodes/" + seg(address)), "text": address},
                node.get("Pool", ""),
                node.get("Status", ""),
                node.get("Provisioner", ""),
            ]
        )
    return render(
        "admin_list.html",
        title="Nodes",
        columns=["Address", "Pool", "Status", "Provisioner"],
        rows=rows,
    )


@bp.route("/admin/nodes/<path:address>", methods=["GET"])
@page("The units running on a node")
@signed_in
def node_units(session: Session, address: str) -> Response:
    rows = [
        [
            u.get("ID", ""),
            {"href": url("/apps/" + seg(str(u.get("AppName", "")))), "text": u.get("AppName", "")},
            u.get("ProcessName", ""),
            u.get("Status", ""),
            unit_address(u),
        ]
        for u in ops.node_units(deps(), session, address)
    ]
    return render(
        "admin_list.html",
        title=f"Units on {address}",
        columns=["Unit", "App", "Process", "Status", "Address"],
        rows=rows,
    )
