"""Node healing of the docker provisioner (provisioning.md §3.5), run by the worker.

Every ``HEAL_CHECK_INTERVAL`` seconds each docker node is pinged (its status in the
catalogue follows: ``ready`` or ``error``, one health check recorded per change). A node
that has not answered for longer than its pool's healing config allows
(``MaxUnresponsiveTime``, else ``MaxTimeSinceSuccess``, else ``DEFAULT_LIMIT``; healing
is on unless the pool's ``Enabled`` is false) is failing: the units recorded on it are
started again on the pool's healthy nodes (the scheduler's choice), checked like a
deploy's, routed, and the failing node's units are forgotten (removed from the node once
it answers again: the reconciler then sees them as nobody's). Each app is healed under
its lease; one that is busy is healed at a later pass.

tsuru replaces a failing node by a new IaaS machine; no IaaS can make one here, so the
node stays registered (``error``) and only its units move. Each healing is recorded as
tsuru does: an internal ``healer`` event on ``node:<address>`` and a ``node-healing``
entry of ``GET /healing``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field

from services.provisioner.backends.base import ERROR, STARTING, NodeInfo
from services.provisioner.domain.infra import HealingConfig, HealingEvent
from services.provisioner.domain.models import Node
from services.provisioner.domain.runtime import STARTED
from services.provisioner.domain.units import Unit
from services.provisioner.operations.runtime import rollout, scheduler, unitset
from services.provisioner.operations.runtime.deps import RuntimeDeps
from services.provisioner.operations.runtime.lease import AppLease
from services.provisioner.operations.runtime.nodecontainers import (
    SYNC_INTERVAL,
    sync_node_containers,
)
from services.provisioner.operations.runtime.nodes import record_check
from services.provisioner.operations.runtime.progress import Progress
from shared.events import INTERNAL_OWNER, Allowed, EventSpec, RunningEvent, Target

log = logging.getLogger(__name__)

HEAL_CHECK_INTERVAL = 1.0
# Seconds a node may stay silent when its pool's healing config sets no limit.
DEFAULT_LIMIT = 30.0
NODE_HEALING = "node-healing"


@dataclass
class HealerState:
    # node -> monotonic time it was first seen not answering (while it does not)
    silent_since: dict[str, float] = field(default_factory=dict)
    # node -> last status written to the catalogue by this healer
    reported: dict[str, str] = field(default_factory=dict)


def effective(configs: dict[str, HealingConfig], pool: str) -> tuple[bool, float]:
    """(enabled, seconds of silence allowed) for ``pool``: its entry over the base."""
    base = configs.get("", HealingConfig())
    mine = configs.get(pool, HealingConfig())
    enabled = mine.enabled if mine.enabled is not None else base.enabled
    unresponsive = (
        mine.max_unresponsive_time
        if mine.max_unresponsive_time is not None
        else base.max_unresponsive_time
    )
    since_success = (
        mine.max_time_since_success
        if mine.max_time_since_success is not None
        else base.max_time_since_success
    )
    limits = [float(v) for v in (unresponsive, since_success) if v is not None and v > 0]
    return enabled is not False, min(limits) if limits else DEFAULT_LIMIT


def heal_pass(deps: RuntimeDeps, state: HealerState) -> list[str]:
    """One look at every docker node; the nodes whose units were healed."""
    if deps.catalogue is None or deps.node_health is None:
        return []
    configs = deps.catalogue.healing.configs()
    now = time.monotonic()
    healed: list[str] = []
    for node in scheduler.docker_nodes(deps):
        if node.status == scheduler.DISABLED:
            state.silent_since.pop(node.address, None)
            continue
        # Pinged now, not from the cache: a death is seen within a second.
        status = deps.node_health.check(node.address)
        if state.reported.get(node.address) != status:
            deps.catalogue.nodes.set_status(node.address, status)
            record_check(deps, NodeInfo(node.address, node.pool, status), "docker")
            state.reported[node.address] = status
            if status != scheduler.READY:
                unroute_node(deps, node.address)
        if status == scheduler.READY:
            state.silent_since.pop(node.address, None)
            continue
        since = state.silent_since.setdefault(node.address, now)
        enabled, limit = effective(configs, node.pool)
        if not enabled or now - since < limit:
            continue
        stranded = [u for u in deps.stores.units.all() if u.node == node.address]
        if stranded and heal_node(deps, node, stranded, now - since):
            healed.append(node.address)
    return healed


def unroute_node(deps: RuntimeDeps, address: str) -> list[str]:
    """The started units of a node just seen silent leave their apps' routes at once
    (long before the healing limit): a gateway then stops trying them. Each app under
    its lease taken without waiting; a busy one is left to the reconciler, which marks
    the units the same way at its next pass. The apps whose route changed."""
    detail = f"node {address} does not answer"
    apps = sorted({u.app for u in deps.stores.units.all() if u.node == address})
    changed: list[str] = []
    for app in apps:
        lease = AppLease(deps, app, wait=0)
        if not lease.try_acquire():
            continue
        try:
            rt = deps.stores.runtimes.get(app)
            if rt is None:
                continue
            for unit in deps.stores.units.of_app(app):
                if unit.node == address and unit.status in (STARTED, STARTING):
                    deps.stores.units.update(unit.id, {"status": ERROR, "status_detail": detail})
            if unitset.sync_route(deps, rt):
                changed.append(app)
        except Exception:
            log.exception("could not take the units of %s on %s out of its route", app, address)
        finally:
            lease.release()
    return changed


def heal_node(deps: RuntimeDeps, node: Node, stranded: list[Unit], silent: float) -> bool:
    """Start the units of ``node`` elsewhere, app by app; True when every app was done."""
    by_app: dict[str, list[Unit]] = defaultdict(list)
    for unit in stranded:
        by_app[unit.app].append(unit)
    reason = f"node {node.address} did not answer for {silent:.0f}s"
    spec = EventSpec(
        target=Target("node", node.address),
        kind="healer",
        owner=INTERNAL_OWNER,
        allowed=Allowed("healing.read", (("pool", node.pool),)),
        lock=False,
        internal=True,
        custom_data={"reason": reason, "units": [u.id for u in stranded]},
    )
    evt = deps.recorder.start(spec)
    started = deps.clock()
    errors: list[str] = []
    done = True
    evt.log(f"{reason}: moving {len(stranded)} units to the other nodes of pool {node.pool}\n")
    for app in sorted(by_app):
        lease = AppLease(deps, app, wait=0)
        if not lease.try_acquire():
            evt.log(f'app "{app}" is busy: its units are moved at a later pass\n')
            done = False
            continue
        try:
            heal_app(deps, app, node.address, evt)
        except Exception as exc:
            log.exception("healing the units of %s on %s failed", app, node.address)
            errors.append(f"{app}: {exc}")
            evt.log(f'could not move the units of "{app}": {exc}\n')
        finally:
            lease.release()
    error = "; ".join(errors)
    evt.done(error or None)
    deps.catalogue.healing.add_event(  # type: ignore[union-attr]
        HealingEvent(
            id=str(evt.id),
            action=NODE_HEALING,
            start=started,
            end=deps.clock(),
            reason=reason,
            successful=not error,
            error=error,
            failing=node_spec(node, "error"),
            created=node_spec(None, ""),
            extra={"Units": [u.id for u in stranded]},
        )
    )
    return done and not error


def heal_app(deps: RuntimeDeps, app: str, address: str, evt: RunningEvent) -> None:
    """Under the app's lease: its units on ``address`` replaced elsewhere, each in its
    desired state: started ones started (checked, routed), stopped or asleep ones
    recorded stopped or asleep on another node (started there when the app is)."""
    rt = deps.stores.runtimes.get(app)
    records = deps.stores.units.of_app(app)
    old = [u for u in records if u.node == address]
    if rt is None or not old:
        return
    live = {g.key for g in rt.groups if g.status == STARTED and not g.pending}
    down = {g.key for g in rt.groups if g.status != STARTED and not g.pending}
    moving = [u for u in old if (u.process, u.version) in live]
    resting = [u for u in old if (u.process, u.version) in down]
    counts: dict[tuple[str, int], int] = defaultdict(int)
    for unit in moving:
        counts[(unit.process, unit.version)] += 1
    progress = Progress(app, lambda _: None, evt, deps.app_log)
    try:
        if resting:
            # Stand-ins first: the old records stay until they exist (a failure here
            # loses nothing: the next pass tries again).
            kept = unitset.record_down(deps, rt, resting, exclude=(address,))
            for unit in resting:
                deps.backend.remove_unit(unit.id)
                deps.stores.units.delete(unit.id)
            n = len(kept)
            progress.write(
                f" ---> {n} stopped {unitset.pluralize('unit', n)} recorded on "
                f"{', '.join(sorted({u.node for u in kept}))}, still stopped\n"
            )
        # First out of the route and forgotten (their node is silent: nothing to drain);
        # should the new ones fail, the reconciler makes up the count later.
        unitset.remove(deps, rt, moving, drain=False)
        if counts:
            rollout.start_new(deps, rt, dict(counts), progress, "healing")
        unitset.sync_route(deps, rt)
    finally:
        progress.close()


def node_spec(node: Node | None, status: str) -> dict[str, object]:
    if node is None:
        return {"Address": "", "IaaSID": "", "Metadata": None, "Status": "", "Pool": "",
                "Provisioner": ""}  # fmt: skip
    return {"Address": node.address, "IaaSID": node.iaas_id,
            "Metadata": dict(node.metadata) or None, "Status": status, "Pool": node.pool,
            "Provisioner": node.provisioner}  # fmt: skip


def run_healer(deps: RuntimeDeps, stop: threading.Event) -> None:
    """The worker's healing loop, and the node containers' (only with a docker backend)."""
    if deps.node_health is None:
        return
    state = HealerState()
    synced = 0.0
    reported: dict[str, str] = {}
    while not stop.wait(HEAL_CHECK_INTERVAL):
        try:
            healed = heal_pass(deps, state)
            if healed:
                log.info("healer: units moved away from %s", ", ".join(healed))
        except Exception:
            log.exception("healer pass failed")
        if time.monotonic() - synced >= SYNC_INTERVAL:
            synced = time.monotonic()
            try:
                sync_node_containers(deps, reported)
            except Exception:
                log.exception("node containers pass failed")
