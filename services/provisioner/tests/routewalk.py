"""How tests/architecture calls every route of the provisioner service (see
shared/testing/routewalk.py): a small world, and a sample for each route whose default
call (``x`` path parameters, no body) would not reach its check or event."""

from __future__ import annotations

import io
from typing import Any

from flask import Flask

from services.provisioner.bootstrap import create_app
from services.provisioner.domain.models import Constraint, DynamicRouter, PlatformVersion, Pool
from services.provisioner.operations.deps import AppRef
from services.provisioner.operations.seed import seed_catalogue
from services.provisioner.tests.fakes import FakeApps, fake_deps
from shared.settings import Settings
from shared.testing.routewalk import RouteWalk, Sample

SETTINGS = Settings("/nonexistent", "walk", "", "", b"routewalk-secret-0123456789")


def _dockerfile() -> dict[str, Any]:
    return {"name": "newplat", "dockerfile_content": (io.BytesIO(b"FROM busybox\n"), "Dockerfile")}


SAMPLES = {
    "POST /pools": Sample("/pools", data={"name": "newpool"}),
    "GET /pools/<name>": Sample("/pools/theonepool"),
    "PUT /pools/<name>": Sample("/pools/theonepool", data={"public": "true"}),
    "DELETE /pools/<name>": Sample("/pools/poolx"),
    "POST /pools/<name>/team": Sample("/pools/poolx/team", data={"team": "green"}),
    "DELETE /pools/<name>/team": Sample("/pools/poolx/team?team=blue"),
    "PUT /constraints": Sample(
        "/constraints", data={"PoolExpr": "p*", "Field": "router", "Values.0": "tsubame"}
    ),
    "POST /plans": Sample("/plans", data={"name": "newplan", "memory": "512M"}),
    "DELETE /plans/<planname>": Sample("/plans/c1m2"),
    "PUT /platforms/<name>": Sample("/platforms/python", data={"disabled": "true"}),
    "DELETE /platforms/<name>": Sample("/platforms/static"),
    "GET /platforms/<name>": Sample("/platforms/python"),
    "POST /platforms/<name>/rollback": Sample("/platforms/python/rollback", data={"image": "1"}),
    "POST /routers": Sample("/routers", json={"name": "r2", "type": "gateway"}),
    "PUT /routers/<name>": Sample("/routers/dyn", json={"config": {"k": "v"}}),
    "DELETE /routers/<name>": Sample("/routers/dyn"),
}
# Set per call: a multipart body cannot be reused (its file is read once).
FRESH_SAMPLES = {"POST /platforms": lambda: Sample("/platforms", data=_dockerfile())}


class Walk(RouteWalk):
    def call(self, app: Flask, method: str, rule: str, identity: Any) -> Any:
        fresh = FRESH_SAMPLES.get(f"{method} {rule}")
        if fresh is not None:
            self.samples = {**self.samples, f"{method} {rule}": fresh()}
        return super().call(app, method, rule, identity)


def make_app() -> Flask:
    deps = fake_deps(teams=["blue", "green"])
    seed_catalogue(deps)
    stores = deps.stores
    stores.pools.add(Pool("poolx"))
    stores.constraints.set(Constraint("poolx", "team", ("blue",)))
    stores.platforms.add_version("python", PlatformVersion(1, ("tsuru/python:v1",)))
    stores.platforms.next_version("python")
    stores.routers.add(DynamicRouter("dyn", "gateway"))
    assert isinstance(deps.apps, FakeApps)
    deps.apps.apps["app1"] = AppRef("app1", "blue", ("blue",), "theonepool", "python")
    return create_app(SETTINGS, deps)


def walk() -> RouteWalk:
    return Walk(make_app, samples={**SAMPLES, **{k: f() for k, f in FRESH_SAMPLES.items()}})
