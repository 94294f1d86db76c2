"""The shape every context keeps (docs/contracts.md "How a new context is written")."""

from __future__ import annotations

import ast
import importlib
import inspect

import pytest

from tests.architecture.layout import APPLICATION, ROOT, SERVICES, imports, is_test, modules, rel

# Libraries that talk to the outside world or belong to the web/storage/bus layers.
FRAMEWORKS = ("flask", "flask_smorest", "werkzeug", "marshmallow", "webargs", "pymongo",
              "pika", "requests", "urllib3", "gevent", "gunicorn", "smtplib", "http")  # fmt: skip
# Kernel modules that are adapters themselves (HTTP, database, bus, internal client).
ADAPTER_KERNEL = ("shared.http", "shared.mongo", "shared.bus.client", "shared.client")
OUTBOUND = ("requests", "urllib3", "smtplib", "http.client", "shared.client")
MAX_LINES = 400


def _hits(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


@pytest.mark.parametrize("ctx", SERVICES)
def test_no_service_imports_another(ctx: str) -> None:
    others = tuple(f"services.{o}" for o in SERVICES if o != ctx)
    bad = [
        f"{rel(p)}:{line} imports {mod}"
        for p in modules(f"services/{ctx}")
        for line, mod in imports(p)
        if _hits(mod, others)
    ]
    assert bad == [], "contexts talk over HTTP and the bus, never by import"


def test_shared_and_gateway_import_no_service() -> None:
    bad = [
        f"{rel(p)}:{line} imports {mod}"
        for p in modules("shared", "gateway")
        for line, mod in imports(p)
        if _hits(mod, ("services",)) and not is_test(p)
    ]
    assert bad == []


@pytest.mark.parametrize("ctx", SERVICES)
@pytest.mark.parametrize("layer", ["domain", "operations"])
def test_domain_and_operations_import_no_framework(ctx: str, layer: str) -> None:
    """The domain is pure Python; use cases get their collaborators in ``deps``."""
    bad = [
        f"{rel(p)}:{line} imports {mod}"
        for p in modules(f"services/{ctx}/{layer}")
        for line, mod in imports(p)
        if _hits(mod, FRAMEWORKS + ADAPTER_KERNEL)
    ]
    assert bad == []


@pytest.mark.parametrize("ctx", SERVICES)
def test_outbound_clients_live_in_adapters(ctx: str) -> None:
    bad = [
        f"{rel(p)}:{line} imports {mod}"
        for p in modules(f"services/{ctx}")
        for line, mod in imports(p)
        if _hits(mod, OUTBOUND)
        and not is_test(p)
        and "adapters" not in p.relative_to(ROOT).parts
        and p.name != "bootstrap.py"  # the composition root makes the clients
    ]
    assert bad == []


def test_indexes_are_declared_with_shared_mongo_index() -> None:
    """``shared.mongo.ensure_indexes`` is the one place indexes are created."""
    bad = []
    for path in modules(*APPLICATION):
        if rel(path) == "shared/mongo.py" or is_test(path):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in ("create_index", "create_indexes"):
                bad.append(f"{rel(path)}:{node.lineno}")
    assert bad == []


def test_routing_keys_are_never_string_literals() -> None:
    """Publish and bind with ``shared.bus.keys``: a literal key is a typo waiting."""
    bad = []
    for path in modules(*APPLICATION):
        if is_test(path):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = (
                node.func.attr
                if isinstance(node.func, ast.Attribute)
                else getattr(node.func, "id", "")
            )
            args = (
                node.args[1].elts
                if name == "Consumer" and len(node.args) > 1 and isinstance(node.args[1], ast.List)
                else [node.args[0]]
                if name == "publish"
                else []
            )
            if any(isinstance(a, ast.Constant | ast.JoinedStr) for a in args):
                bad.append(f"{rel(path)}:{node.lineno}")
    assert bad == []


def test_no_module_is_over_about_400_lines() -> None:
    """Split by resource or aggregate before a module grows past this."""
    long = {
        rel(p): n
        for p in modules(*APPLICATION)
        if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}


@pytest.mark.parametrize("ctx", SERVICES)
def test_one_composition_root_without_io(ctx: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """``connect(settings)`` wires real adapters without touching the network (nothing
    listens on these addresses), and ``create_app`` takes any bundle: one mode."""
    from shared.settings import Settings

    bootstrap = importlib.import_module(f"services.{ctx}.bootstrap")
    params = list(inspect.signature(bootstrap.create_app).parameters)
    assert params == ["settings", "deps", "startup"], "create_app(settings, deps, *, startup)"
    base = Settings(
        data_dir=str(ROOT / ".no-such-dir"), namespace="archtest",
        mongo_url="mongodb://127.0.0.1:1/", amqp_url="amqp://guest:guest@127.0.0.1:1/%2F",
        identity_secret=b"s" * 32,
    )  # fmt: skip
    settings_module = importlib.import_module(f"services.{ctx}.settings")
    settings = settings_module.from_base(base)
    wired = bootstrap.connect(settings)
    app = bootstrap.create_app(settings, wired.deps)
    assert app.extensions["tsubame"]["deps"] is wired.deps
