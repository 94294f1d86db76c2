from __future__ import annotations

from services.provisioner.domain.models import Constraint
from services.provisioner.operations.seed import seed_catalogue
from services.provisioner.tests.fakes import fake_deps


def test_fresh_stack_gets_the_default_catalogue() -> None:
    deps = fake_deps()
    seed_catalogue(deps)
    plans = deps.stores.plans.all()
    assert len(plans) == 22
    assert [p.name for p in plans] == sorted(p.name for p in plans)
    default = deps.stores.plans.default()
    assert default is not None and default.name == "c0.1m0.2"
    assert (default.cpumilli, default.memory) == (100, 256 * 1024 * 1024)
    c4m16 = deps.stores.plans.get("c4m16")
    assert c4m16 is not None and (c4m16.cpumilli, c4m16.memory) == (4000, 16 * 1024**3)
    assert [(p.name, p.default) for p in deps.stores.pools.all()] == [("theonepool", True)]
    assert deps.stores.constraints.all() == [Constraint("theonepool", "team", ("*",))]
    assert [p.name for p in deps.stores.platforms.all()] == ["python", "static"]


def test_seed_runs_once_per_stack() -> None:
    deps = fake_deps()
    seed_catalogue(deps)
    deps.stores.pools.delete("theonepool")
    deps.stores.plans.delete("c1m2")
    seed_catalogue(deps)  # a restart: what the operator removed stays removed
    assert deps.stores.pools.all() == []
    assert deps.stores.plans.get("c1m2") is None


def test_seed_resumes_after_a_start_that_died_halfway() -> None:
    deps = fake_deps()
    seed_catalogue(deps)
    deps.stores.seeds.names.clear()  # type: ignore[attr-defined]
    seed_catalogue(deps)  # every item already there: nothing duplicated, nothing fails
    assert len(deps.stores.plans.all()) == 22
    assert len(deps.stores.pools.all()) == 1
