"""tsuru's permission tree (permissions.md §3, §6): every node, its allowed contexts
and its registration order, read from ``tree.txt``."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

CONTEXT_TYPES = (
    "global", "app", "team", "user", "pool", "iaas", "service", "service-instance",
    "volume", "router",
)  # fmt: skip
ROOT = ""

# Top-level registration order of tsuru 1.11 (permissions.md §6); GET /teams walks
# nodes in this order. Inside a subtree the order given for app and team is kept;
# other subtrees follow name order, which only matters for callers holding several
# siblings without their parent.
_TOP_ORDER = (
    "app", "node", "machine", "team", "user", "service", "service-broker",
    "service-instance", "role", "platform", "plan", "pool", "debug", "healing",
    "nodecontainer", "install", "event-block", "cluster", "volume", "webhook", "router",
)  # fmt: skip
_APP_ORDER = (
    "app.create", "app.update", "app.update.description", "app.update.tags",
    "app.update.log", "app.update.pool", "app.update.unit", "app.update.unit.add",
    "app.update.unit.remove", "app.update.unit.register", "app.update.unit.status",
    "app.update.unit.autoscale", "app.update.unit.autoscale.add",
    "app.update.unit.autoscale.remove", "app.update.unit.kill", "app.update.env",
    "app.update.env.set", "app.update.env.unset", "app.update.restart", "app.update.sleep",
    "app.update.start", "app.update.stop", "app.update.swap", "app.update.grant",
    "app.update.revoke", "app.update.teamowner", "app.update.cname", "app.update.cname.add",
    "app.update.cname.remove", "app.update.plan", "app.update.planoverride",
    "app.update.platform", "app.update.bind", "app.update.bind-volume",
    "app.update.image-reset", "app.update.events", "app.update.unbind",
    "app.update.unbind-volume", "app.update.certificate", "app.update.certificate.set",
    "app.update.certificate.unset", "app.update.deploy", "app.update.deploy.rollback",
    "app.update.router", "app.update.router.add", "app.update.router.update",
    "app.update.router.remove", "app.update.routable", "app.update.metadata", "app.deploy",
    "app.deploy.archive-url", "app.deploy.build", "app.deploy.git", "app.deploy.image",
    "app.deploy.rollback", "app.deploy.upload", "app.read", "app.read.deploy",
    "app.read.router", "app.read.env", "app.read.events", "app.read.metric", "app.read.log",
    "app.read.certificate", "app.read.info", "app.delete", "app.run", "app.run.shell",
    "app.admin", "app.admin.routes", "app.admin.quota", "app.build",
)  # fmt: skip
_TEAM_ORDER = (
    "team.create", "team.read", "team.read.events", "team.read.quota", "team.delete",
    "team.update", "team.update.quota", "team.token", "team.token.read",
    "team.token.create", "team.token.delete", "team.token.update",
)  # fmt: skip


@dataclass(frozen=True)
class Node:
    name: str  # "" for the root
    contexts: tuple[str, ...]  # always starts with "global"
    order: int  # registration order (depth-first)

    @property
    def api_name(self) -> str:
        """Name as roles and inputs write it: the root is ``*``."""
        return self.name or "*"


def _order_key(name: str) -> tuple[int, int, str]:
    top = name.split(".", 1)[0]
    top_idx = _TOP_ORDER.index(top) if top in _TOP_ORDER else len(_TOP_ORDER)
    within = _APP_ORDER if top == "app" else _TEAM_ORDER if top == "team" else ()
    if name == top:
        return (top_idx, -1, "")
    if name in within:
        return (top_idx, within.index(name), "")
    return (top_idx, len(within), name)


@cache
def tree() -> dict[str, Node]:
    raw = resources.files("shared.permissions").joinpath("tree.txt").read_text()
    entries: list[tuple[str, tuple[str, ...]]] = []
    for line in raw.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, ctxs = line.split()
        entries.append(("" if name == "*" else name, tuple(ctxs.split(","))))
    ordered = sorted(entries, key=lambda e: (-1,) if e[0] == "" else _order_key(e[0]))
    return {name: Node(name, ctxs, i) for i, (name, ctxs) in enumerate(ordered)}


def normalize(name: str) -> str:
    """API spelling to tree key: ``*`` is the root."""
    return "" if name == "*" else name


def is_registered(name: str) -> bool:
    return normalize(name) in tree()


def sorted_nodes() -> list[Node]:
    """Every node sorted by name, root first (GET /permissions order)."""
    return sorted(tree().values(), key=lambda n: n.name)


def registration_order() -> list[Node]:
    return sorted(tree().values(), key=lambda n: n.order)
