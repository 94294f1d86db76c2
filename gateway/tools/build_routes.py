"""Build ``gateway/routes.txt`` from the seed API reference and tsuru's route appendix.

Run once when a source document changes and commit the output::

    python -m gateway.tools.build_routes [--seed PATH] [--appendix PATH] [--out PATH]

It also writes ``gateway/seed-operations.json`` (``--seed-out``): each seed entry's
title, media types and statuses, from which the gateway documents the routes no
service has built yet in the merged OpenAPI document.

Sources (copied into ``gateway/tools/sources/`` from the project's shared documents,
so a bare clone can rebuild and check the table):

* the seed document (``seed/api-reference.txt``): blocks with ``path:`` and
  ``method:`` bullets; method ``*`` stands for GET POST PUT PATCH DELETE;
* Appendix A of ``reference/events-and-http.md``: tsuru 1.11's registered routes
  (real spellings such as ``/apps/{app}/routers`` and ``/docker/node...``).

The table keeps both spellings of a route; the router merges templates of the
same shape. Node addresses (``{address}`` after a ``node`` segment) are written
``{address:.*}``: they match the rest of the path, as in tsuru.
"""

from __future__ import annotations

import argparse
import json
import re
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SOURCES = Path(__file__).resolve().parent / "sources"
DEFAULT_SEED = SOURCES / "api-reference.txt"
DEFAULT_APPENDIX = SOURCES / "tsuru-1.11-routes.md"
DEFAULT_OUT = REPO / "gateway" / "routes.txt"
DEFAULT_SEED_OUT = REPO / "gateway" / "seed-operations.json"

ANY_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")

# Routes that need no token (tsuru registers them without its auth wrapper). The two
# websockets check the token themselves, so the gateway lets them through as public.
PUBLIC = frozenset(
    {
        ("GET", "/"),
        ("POST", "/users"),
        ("GET", "/auth/scheme"),
        ("POST", "/auth/login"),
        ("GET", "/auth/saml"),
        ("POST", "/auth/saml"),
        ("POST", "/users/{email}/password"),
        ("POST", "/users/{email}/tokens"),
        ("GET", "/healthcheck"),
        ("GET", "/healthcheck/"),
        ("GET", "/metrics"),
        ("GET", "/apps/{appname}/shell"),
        ("GET", "/apps/{name}/shell"),
        ("GET", "/logs"),
        ("GET", "/openapi.json"),
        ("GET", "/docs"),
        ("GET", "/docs/{asset}"),
        # The dashboard: pages for people. Its service keeps its own sessions and calls
        # the API through this gateway with the signed-in user's token.
        ("GET", "/ui"),
        ("GET", "/ui/"),
        ("GET", "/ui/{path:.*}"),
        ("POST", "/ui/{path:.*}"),
        ("POST", "/ui/apps/{app}/deploy"),
    }
)

# Routes of Tsubame itself (source "tsubame"): the merged OpenAPI document, the page
# that renders it and that page's assets (served from a package, no CDN), and the
# web dashboard.
OWN_ROUTES = (
    ("GET", "/openapi.json"),
    ("GET", "/docs"),
    ("GET", "/docs/{asset}"),
    # The web dashboard (services/web); the deploy upload is its own route for its
    # body limit (shared/limits.py UPLOAD_ROUTES).
    ("GET", "/ui"),
    ("GET", "/ui/"),
    ("GET", "/ui/{path:.*}"),
    ("POST", "/ui/{path:.*}"),
    ("POST", "/ui/apps/{app}/deploy"),
)

# Owner of a route by its first path segment.
OWNERS = {
    "auth": ("users", "auth", "teams", "roles", "role", "permissions", "tokens"),
    "events": ("events",),
    "catalog": ("services", "brokers"),
    "provisioner": (
        "pools",
        "constraints",
        "plans",
        "platforms",
        "provisioner",
        "node",
        "nodecontainers",
        "docker",
        "install",
        "healing",
        "autoscale",
        "iaas",
        "volumes",
        "volumeplans",
        "routers",
        "{provisioner}",
    ),
    "apps": ("apps", "app", "deploys", "swap", "logs"),
    "gateway": ("", "info", "healthcheck", "metrics", "debug", "openapi.json", "docs"),
    "web": ("ui",),
}
# Exceptions to the first-segment rule. The node agent's unit status report is an app
# context route in tsuru (api/app.go), though it lives under /node.
OWNER_EXCEPTIONS = {"/node/status": "apps"}

_NODE_ADDRESS = re.compile(r"(/node/)\{address(?::\.\*)?\}")


@dataclass(frozen=True)
class SourceRoute:
    method: str
    template: str
    source: str  # "seed" or "A<number>"


def normalize(template: str) -> str:
    """The table's spelling of a template: node addresses match the rest of the path."""
    return _NODE_ADDRESS.sub(r"\1{address:.*}", template)


def parse_seed(text: str) -> list[SourceRoute]:
    routes: list[SourceRoute] = []
    for block in re.split(r"\n\s*\n", text):
        path = re.search(r"•\s*path:\s*(\S+)", block)
        method = re.search(r"•\s*method:\s*(\S+)", block)
        if not path and not method:
            continue
        if not (path and method):
            raise ValueError(f"seed block without both path and method: {block!r}")
        methods = ANY_METHODS if method.group(1) == "*" else (method.group(1).upper(),)
        routes.extend(SourceRoute(m, path.group(1), "seed") for m in methods)
    return routes


def parse_appendix(text: str) -> list[SourceRoute]:
    start = text.index("## Appendix A")
    end = text.index("## Appendix B", start)
    line = re.compile(r"^\s*(\d+)\s+(\d+\.\d+)\s+(\S+)\s+(/\S*)", re.M)
    routes: list[SourceRoute] = []
    for m in line.finditer(text[start:end]):
        number, _version, method, path = m.groups()
        methods = ANY_METHODS if method.startswith("ANY") else (method,)
        routes.extend(SourceRoute(x, path, f"A{number}") for x in methods)
    return routes


def tsubame_routes() -> list[SourceRoute]:
    return [SourceRoute(method, template, "tsubame") for method, template in OWN_ROUTES]


def parse_seed_operations(text: str) -> list[dict[str, object]]:
    """Every seed entry as documented: title, path, method, media types, statuses."""
    out: list[dict[str, object]] = []
    title = ""  # each entry's title is the paragraph before its bullets
    for block in re.split(r"\n\s*\n", text):
        bullets = dict(re.findall(r"•\s*([a-z0-9]+):\s*(.*?)\s*$", block, re.M))
        if "path" not in bullets:
            title = block.strip()
            continue
        method = bullets["method"].upper()
        for m in ANY_METHODS if method == "*" else (method,):
            out.append(
                {
                    "method": m,
                    "path": bullets["path"],
                    "summary": title,
                    "produces": bullets.get("produce", ""),
                    "consumes": bullets.get("consume", ""),
                    "responses": {k: v for k, v in bullets.items() if k.isdigit()},
                }
            )
    return sorted(out, key=lambda op: (str(op["path"]), str(op["method"])))


def render_seed_operations(text: str) -> str:
    return json.dumps(parse_seed_operations(text), indent=1, ensure_ascii=False) + "\n"


def owner_of(template: str) -> str:
    if template in OWNER_EXCEPTIONS:
        return OWNER_EXCEPTIONS[template]
    first = template.split("/")[1]
    for owner, firsts in OWNERS.items():
        if first in firsts:
            return owner
    raise ValueError(f"no owner for {template}")


def render(routes: list[SourceRoute]) -> str:
    merged: dict[tuple[str, str], list[str]] = {}
    for r in routes:
        merged.setdefault((r.method, normalize(r.template)), []).append(r.source)
    rows = []
    for (method, template), sources in sorted(merged.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        access = "public" if (method, template) in PUBLIC else "token"
        rows.append((method, template, owner_of(template), access, ",".join(sorted(set(sources)))))
    width = max(len(r[1]) for r in rows)
    lines = [
        "# Route table of the gateway. Generated by gateway/tools/build_routes.py from the",
        "# seed API reference, Appendix A of events-and-http.md (tsuru 1.11's registered",
        "# routes) and Tsubame's own routes; edit those inputs or the tool, not this file.",
        "# columns: method template owner access sources",
        "# access: token = a valid token is required; public = none needed",
        "# {name:.*} matches the rest of the path (node addresses); {name} one segment.",
    ]
    for method, template, owner, access, source_list in rows:
        lines.append(f"{method:<7} {template:<{width}} {owner:<12} {access:<7} {source_list}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=Path, default=DEFAULT_SEED)
    parser.add_argument("--appendix", type=Path, default=DEFAULT_APPENDIX)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--seed-out", type=Path, default=DEFAULT_SEED_OUT)
    args = parser.parse_args(argv)
    seed = args.seed.read_text()
    routes = parse_seed(seed) + parse_appendix(args.appendix.read_text()) + tsubame_routes()
    args.out.write_text(render(routes))
    print(f"wrote {args.out} ({len(routes)} source entries)")
    args.seed_out.write_text(render_seed_operations(seed))
    print(f"wrote {args.seed_out}")


if __name__ == "__main__":
    main()
