"""``tsuru app-shell``'s provisioner side (docs/runtime.md "Shell"): which unit a shell
goes beside (or an isolated one), and the request the backend opens it with."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol

from services.provisioner.backends.base import ExecRequest, Limits
from services.provisioner.domain.runtime import AppRuntime
from services.provisioner.domain.runtime_errors import (
    BuiltElsewhere,
    NotAvailable,
    NoVersions,
    UnitNotFound,
)
from services.provisioner.domain.units import AVAILABLE, find_prefix
from services.provisioner.storage.runtime_ports import RuntimeStores


class Terminal(Protocol):
    """A running shell: ``fd`` is its terminal's master side."""

    fd: int

    def resize(self, width: int, height: int) -> None: ...
    def alive(self) -> bool: ...


class ShellOpener(Protocol):
    def open(
        self, req: ExecRequest, *, width: int, height: int, term: str
    ) -> AbstractContextManager[Terminal]: ...


@dataclass(frozen=True)
class ShellOptions:
    unit: str = ""
    isolated: bool = False
    width: int = 0
    height: int = 0
    term: str = ""


def shell_request(
    stores: RuntimeStores,
    app: str,
    opts: ShellOptions,
    place: Callable[[AppRuntime], str] = lambda rt: "",
    provisioner: Callable[[AppRuntime], str] = lambda rt: "",
) -> ExecRequest:
    """Beside ``opts.unit`` (an id or its prefix) or the app's first available unit, or
    in a fresh isolated unit of its latest version: on the node of the app's units, or
    ``place``'s (the provisioner of the app's pool) when it has none; refused when
    another provisioner than ``provisioner``'s (the app's pool's) built that version.
    Refusals in tsuru's words."""
    rt = stores.runtimes.get(app)
    units = [u for u in stores.units.of_app(app) if u.status in AVAILABLE]
    if opts.isolated:
        if rt is None or not rt.releases:
            raise NoVersions()
        release, unit_id = rt.release(rt.latest_version() or max(rt.releases)), ""
        runs = provisioner(rt)
        if release.provisioner and runs and release.provisioner != runs:
            raise BuiltElsewhere(release.version, release.provisioner, runs)
        # Where the app's units run (a docker app's isolated shell goes to their engine).
        node = next((u.node for u in units if u.node), "") or place(rt)
    else:
        if opts.unit:
            found = find_prefix(stores.units.of_app(app), opts.unit)
            if found is None:
                raise UnitNotFound(opts.unit)
        elif units:
            found = units[0]
        else:
            raise NotAvailable()
        if rt is None or found.version not in rt.releases:
            raise UnitNotFound(opts.unit or found.id)
        release, unit_id, node = rt.release(found.version), found.id, found.node
    plan = rt.spec.plan
    return ExecRequest(
        app=app,
        command="",
        env=dict(rt.spec.env),
        release=release.release(app),
        unit=unit_id,
        limits=Limits(plan.memory, plan.swap, plan.cpumilli, plan.cpushare),
        node=node,
        timeout=24 * 3600.0,
    )
