"""Units coming and going, the bind syncer, removed apps and the internal questions
(catalog.md §c.6; docs/runtime.md "Service bindings")."""

from __future__ import annotations

from flask.testing import FlaskClient

from services.catalog.domain import errors
from services.catalog.domain.models import AppUnit, BoundUnit
from services.catalog.operations import internal, units
from services.catalog.operations.deps import Deps
from services.catalog.tests.fakes import FakeClients, MemoryApps
from services.catalog.tests.unit.conftest import ADMIN, a_service, an_instance
from shared.identity import internal_identity
from shared.testing.events import FakeRecorder
from shared.testing.identity import pending

U1, U2, U3 = AppUnit("u1", "10.0.0.1"), AppUnit("u2", "10.0.0.2"), AppUnit("u3", "10.0.0.3")


def _bound(deps: Deps, apps: MemoryApps, client: FlaskClient) -> None:
    deps.stores.instances.add(an_instance("db1"))
    apps.add("shop", units=(U1, U2))
    assert (
        client.put("/services/mysql/instances/db1/shop?noRestart=true", headers=ADMIN).status_code
        == 200
    )


def _unit_ids(deps: Deps) -> list[str]:
    inst = deps.stores.instances.get("mysql", "db1")
    assert inst is not None
    return sorted(u.id for u in inst.bound_units)


def test_units_changed_binds_and_unbinds(
    client: FlaskClient, deps: Deps, apps: MemoryApps, apis: FakeClients, events: FakeRecorder
) -> None:
    _bound(deps, apps, client)
    apps.add("shop", units=(U2, U3))
    internal.units_changed(deps, "shop", added=[U3], removed=[U1])
    assert _unit_ids(deps) == ["u2", "u3"]
    assert [(c[0], c[2]) for c in apis.api("mysql").calls[-2:]] == [
        ("bind_unit", "u3"), ("unbind_unit", "u1"),
    ]  # fmt: skip
    evt = events.last()
    assert (evt.kind.name, evt.kind.type) == ("bindsyncer", "internal")
    assert evt.end_custom_data == {"binds": {"db1": ["u3"]}, "unbinds": {"db1": ["u1"]}}
    # The same message again changes nothing and records nothing.
    before = len(events.records)
    internal.units_changed(deps, "shop", added=[U3], removed=[U1])
    assert len(events.records) == before


def test_syncer_repairs_what_messages_missed(
    client: FlaskClient, deps: Deps, apps: MemoryApps, events: FakeRecorder
) -> None:
    _bound(deps, apps, client)
    apps.add("shop", units=(U3,))
    assert units.sync_all(deps) == 1
    assert _unit_ids(deps) == ["u3"]
    before = len(events.records)
    units.sync_all(deps)  # in sync: no event
    assert len(events.records) == before


def test_syncer_records_failures(
    client: FlaskClient, deps: Deps, apps: MemoryApps, apis: FakeClients, events: FakeRecorder
) -> None:
    _bound(deps, apps, client)
    apps.add("shop", units=(U1, U2, U3))
    apis.api("mysql").fail_units = {"u3"}
    units.sync_all(deps)
    assert _unit_ids(deps) == ["u1", "u2"]
    assert "failed to bind a unit for mysql/db1" in events.last().error


def test_disabled_bind_unit_services_are_not_synced(deps: Deps, apps: MemoryApps) -> None:
    deps.stores.services.add(a_service("quiet", disable_bind_unit=True))
    deps.stores.instances.add(an_instance("q1", service="quiet", apps=["shop"]))
    apps.add("shop", units=(U1,))
    assert units.sync_app(deps, apps.apps["shop"]).empty


def test_removed_app_is_unbound_everywhere(
    client: FlaskClient, deps: Deps, apps: MemoryApps, apis: FakeClients
) -> None:
    _bound(deps, apps, client)
    deps.stores.instances.add(an_instance("db2", apps=["shop"],
                                          bound_units=[BoundUnit("shop", "u9", "10.0.0.9")]))  # fmt: skip
    apps.apps.pop("shop")
    internal.app_removed(deps, "shop")
    for name in ("db1", "db2"):
        inst = deps.stores.instances.get("mysql", name)
        assert inst is not None and (inst.apps, inst.bound_units) == ([], [])
    assert apis.api("mysql").ops().count("unbind_app") == 2
    internal.app_removed(deps, "shop")  # redelivered: nothing left
    assert apis.api("mysql").ops().count("unbind_app") == 2


def test_removed_app_is_forgotten_even_when_the_api_refuses(
    client: FlaskClient, deps: Deps, apps: MemoryApps, apis: FakeClients, events: FakeRecorder
) -> None:
    _bound(deps, apps, client)
    api = apis.api("mysql")
    api.fail["unbind_unit"] = errors.ServiceApiError("unit gone")
    api.fail["unbind_app"] = errors.ServiceApiError("api down")
    apps.apps.pop("shop")
    internal.app_removed(deps, "shop")
    inst = deps.stores.instances.get("mysql", "db1")
    assert inst is not None and (inst.apps, inst.bound_units) == ([], [])
    assert "api down (ignored: the app is gone)" in events.last().log


def test_internal_questions(client: FlaskClient, deps: Deps) -> None:
    deps.stores.instances.add(an_instance("db2", teams=["red"], apps=["shop"], plan_name="s"))
    deps.stores.instances.add(an_instance("db1", teams=["red", "blue"], apps=["shop"]))
    secret = client.application.config["TSUBAME_SETTINGS"].identity_secret
    who = pending(internal_identity("auth"), secret)
    assert client.get("/internal/teams/red/usage", headers=who).json == {
        "service_instances": ["db2", "db1"]
    }
    assert client.get("/internal/teams/green/usage", headers=who).json == {"service_instances": []}
    assert client.get("/internal/apps/shop/binds", headers=who).json == [
        {"service": "mysql", "instance": "db1", "plan": ""},
        {"service": "mysql", "instance": "db2", "plan": "s"},
    ]
    assert client.get("/internal/services", headers=who).json == {"services": ["mysql"]}
    assert client.get("/internal/services", headers=ADMIN).status_code == 401


def test_recovery_finishes_a_bind_cut_short(
    client: FlaskClient, deps: Deps, apps: MemoryApps, apis: FakeClients, events: FakeRecorder
) -> None:
    from services.catalog.domain.models import PendingOp
    from services.catalog.operations.recovery import recover
    from shared.events import INTERNAL_OWNER, NOBODY_BUT_ADMINS, EventSpec, Target

    # What a process killed in the middle of a bind leaves: the app in ``apps``, the
    # API bound, env vars set, a unit recorded, the note, and an event no longer running.
    deps.stores.instances.add(an_instance("db1", apps=["shop"],
                                          bound_units=[BoundUnit("shop", "u1", "10.0.0.1")]))  # fmt: skip
    apps.add("shop", units=(U1,))
    list(apps.set_envs("shop", "mysql", "db1", {"A": "1"}, restart=False))
    dead = events.start(
        EventSpec(Target("app", "shop"), "app.update.bind", INTERNAL_OWNER, NOBODY_BUT_ADMINS)
    )
    running = PendingOp("bind", "shop", dead.unique_id)
    deps.stores.instances.add_pending("mysql", "db1", running)
    assert units.sync_app(deps, apps.apps["shop"]).empty  # the syncer leaves it alone
    assert recover(deps) == 0  # its event still runs: not cut short (yet)
    dead.done("killed")
    assert recover(deps) == 1
    inst = deps.stores.instances.get("mysql", "db1")
    assert inst is not None and (inst.apps, inst.bound_units, inst.pending) == ([], [], [])
    assert apps.envs["shop"] == []
    assert apis.api("mysql").ops() == ["unbind_unit", "unbind_app"]
    assert events.last().kind.name == "bind-recovery"
    assert recover(deps) == 0
