"""The node autoscaler: config, rules, history and a run (provisioning.md §2i, §3.10).

A run decides per pool whether nodes should be added or removed; nodes can only come from
an IaaS, and none is reachable here, so a run that decides to add a node records that
decision as a failed history entry and changes nothing. Runs that decide nothing leave no
entry, as in tsuru.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass, replace
from typing import Any

from services.provisioner.domain import errors
from services.provisioner.domain.infra import AutoscaleEvent, AutoscaleRule
from services.provisioner.operations.deps import DOCKER, Body, Deps, Writer
from shared.events import Target
from shared.identity import Identity
from shared.mutation import authorize
from shared.permissions import ensure

WAIT_NEW_MACHINE_NS = 300 * 10**9
RUN_INTERVAL_NS = 3600 * 10**9
DEFAULT_SCALE_DOWN = 1.333


@dataclass(frozen=True)
class RuleView:
    rule: AutoscaleRule
    error: str


def config_json() -> dict[str, Any]:
    return {"WaitTimeNewMachine": WAIT_NEW_MACHINE_NS, "RunInterval": RUN_INTERVAL_NS,
            "TotalMemoryMetadata": "", "Enabled": True}  # fmt: skip


def normalize(rule: AutoscaleRule) -> tuple[AutoscaleRule, str]:
    """tsuru's normalisation: the rule as stored and its error ("" when valid)."""
    if rule.scale_down_ratio == 0:
        rule = replace(rule, scale_down_ratio=DEFAULT_SCALE_DOWN)
    if rule.scale_down_ratio <= 1.0:
        got = f"{rule.scale_down_ratio:f}"
        return rule, f"invalid rule, scale down ratio needs to be greater than 1.0, got {got}"
    if rule.enabled and rule.max_container_count <= 0:
        # No node reports total memory here: the memory scaler cannot apply.
        return rule, "invalid rule, either memory information or max container count must be set"
    return rule, ""


# tsuru always lists a rule made from its configuration (docker:auto-scale:*); ours is
# the disabled default rule.
CONFIG_RULE = AutoscaleRule("", enabled=False)


def list_rules(deps: Deps, identity: Identity) -> list[RuleView]:
    ensure(identity, "node.autoscale.read")
    stored = {r.metadata_filter: r for r in deps.stores.node_autoscale.rules()}
    stored.setdefault(CONFIG_RULE.metadata_filter, CONFIG_RULE)
    views = [RuleView(*normalize(stored[k])) for k in sorted(stored)]
    return views


def get_config(identity: Identity) -> dict[str, Any]:
    ensure(identity, "node.autoscale.read")
    return config_json()


def set_rule(deps: Deps, identity: Identity, rule: AutoscaleRule, fields: Any) -> None:
    permit = authorize(identity, "node.autoscale.update")
    with permit.record(deps.recorder, target=Target("pool", rule.metadata_filter),
                       custom_data=fields):  # fmt: skip
        normalized, error = normalize(rule)
        if error:
            raise errors.InvalidRule(error)
        deps.stores.node_autoscale.put_rule(normalized)


def delete_rule(deps: Deps, identity: Identity, pool: str, fields: Any) -> None:
    # tsuru checks the parent permission and records node.autoscale.delete.
    authorize(identity, "node.autoscale")
    permit = authorize(identity, "node.autoscale.delete")
    with permit.record(deps.recorder, target=Target("pool", pool), custom_data=fields):
        if not deps.stores.node_autoscale.delete_rule(pool):
            raise errors.RuleNotFound()


def history(deps: Deps, identity: Identity, skip: int, limit: int) -> list[AutoscaleEvent]:
    ensure(identity, "node.autoscale")
    return deps.stores.node_autoscale.events(skip, limit)


def run(deps: Deps, identity: Identity, fields: Any) -> Body:
    permit = authorize(identity, "node.autoscale.update.run")

    def body(out: Writer) -> None:
        with permit.record(deps.recorder, target=Target("pool", ""), custom_data=fields,
                           lock=False) as evt:  # fmt: skip
            evt.attach(out)
            rules = {r.metadata_filter: r for r in deps.stores.node_autoscale.rules()}
            pools = sorted({n.pool for n in deps.stores.nodes.all()
                            if n.pool and n.provisioner == DOCKER})  # fmt: skip
            if not pools:
                evt.log("no docker nodes: the process provisioner's pools have one node, "
                        "nothing to scale\n")  # fmt: skip
            failures = [f for pool in pools if (f := _scale(deps, evt, pool, rules))]
            if failures:
                raise errors.AutoscaleFailed("; ".join(failures))

    return body


def _scale(deps: Deps, evt: Any, pool: str, rules: dict[str, AutoscaleRule]) -> str:
    rule = rules.get(pool) or rules.get("")
    if rule is None:
        evt.log(f"no auto scale rule for {pool}\n")
        return ""
    rule, error = normalize(rule)
    if not rule.enabled:
        evt.log(f"auto scale rule disabled for {pool}\n")
        return ""
    if error:
        evt.log(f"invalid rule for {pool}: {error}\n")
        return ""
    evt.log(f'running scaler *autoscale.countScaler for "pool": "{pool}"\n')
    nodes = [n for n in deps.stores.nodes.by_pool(pool) if n.status != "disabled"]
    units = sum(len(deps.units.by_node(n.address)) for n in nodes)
    free = len(nodes) * rule.max_container_count - units
    start = deps.clock()
    if free < 0:
        wanted = math.ceil(-free / rule.max_container_count)
        reason = f"number of free slots is {free}"
        error = (f"cannot add {wanted} node(s): no IaaS is configured to create machines; "
                 "register nodes with node-add instead")  # fmt: skip
        action = "add"
    elif len(nodes) > 1 and free >= rule.max_container_count * rule.scale_down_ratio:
        reason = f"number of free slots is {free}"
        error = ("cannot remove a node: no IaaS is configured to destroy machines; "
                 "remove nodes with node-remove instead")  # fmt: skip
        action = "remove"
    else:
        evt.log(f'nothing to do for "pool": "{pool}"\n')
        return ""
    evt.log(f"{reason}\n{error}\n")
    deps.stores.node_autoscale.add_event(AutoscaleEvent(
        secrets.token_hex(12), pool, action, reason, start, deps.clock(), False, error,
        f"{reason}\n{error}\n"))  # fmt: skip
    return error
