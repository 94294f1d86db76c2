"""The catalog bundle on fakes, and the fakes themselves (each honours the port it
stands for: an in-memory service API, apps, pools, teams and proxy)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from services.catalog.adapters.events import StoredEvents
from services.catalog.domain import errors
from services.catalog.domain.models import (
    AppUnit,
    AppView,
    Broker,
    BrokerBind,
    BrokerData,
    Catalog,
    CatalogService,
    Plan,
    PoolInfo,
    Service,
    ServiceInstance,
)
from services.catalog.operations.deps import (
    BindResult,
    CallContext,
    Config,
    Deps,
    ProxyRequest,
    ProxyResponse,
)
from services.catalog.storage.memory import memory_stores
from shared.testing.bus import RecordingPublisher
from shared.testing.events import FakeRecorder


@dataclass
class FakeServiceApi:
    """One service API in memory: what it was asked, and what it answers.

    ``fail["bind_app"] = SomeError(...)`` makes that call raise."""

    envs: dict[str, str] = field(default_factory=lambda: {"DB_HOST": "10.0.0.1"})
    status_text: str = "up"
    info_items: list[dict[str, str]] = field(default_factory=list)
    plan_list: list[Plan] | None = field(default_factory=lambda: [Plan("small", "a small one")])
    fail: dict[str, Exception] = field(default_factory=dict)
    fail_units: set[str] = field(default_factory=set)  # unit ids bind_unit refuses
    calls: list[tuple[str, str, str, CallContext]] = field(default_factory=list)
    broker: bool = False

    def _call(self, op: str, instance: str, detail: str, ctx: CallContext) -> None:
        self.calls.append((op, instance, detail, ctx))
        if op in self.fail:
            raise self.fail[op]

    def ops(self) -> list[str]:
        return [c[0] for c in self.calls]

    def create(self, instance: ServiceInstance, ctx: CallContext) -> BrokerData | None:
        self._call("create", instance.name, "", ctx)
        return BrokerData("uuid", "sid", "pid", "org", "org") if self.broker else None

    def update(self, instance: ServiceInstance, ctx: CallContext) -> BrokerData | None:
        self._call("update", instance.name, instance.description, ctx)
        return instance.broker_data if self.broker else None

    def destroy(self, instance: ServiceInstance, ctx: CallContext) -> None:
        self._call("destroy", instance.name, "", ctx)

    def bind_app(
        self, instance: ServiceInstance, app: AppView, params: dict[str, Any], ctx: CallContext
    ) -> BindResult:
        self._call("bind_app", instance.name, app.name, ctx)
        data = instance.broker_data
        if self.broker and data is not None:
            data = replace(data, binds={**data.binds, app.name: BrokerBind("b")})
        return BindResult(dict(self.envs), data if self.broker else None)

    def unbind_app(
        self, instance: ServiceInstance, app: AppView, ctx: CallContext
    ) -> BrokerData | None:
        self._call("unbind_app", instance.name, app.name, ctx)
        return None

    def bind_unit(
        self, instance: ServiceInstance, app: AppView, unit: AppUnit, ctx: CallContext
    ) -> None:
        self._call("bind_unit", instance.name, unit.id, ctx)
        if unit.id in self.fail_units:
            raise errors.InstanceNotReady()

    def unbind_unit(
        self, instance: ServiceInstance, app: AppView, unit: AppUnit, ctx: CallContext
    ) -> None:
        self._call("unbind_unit", instance.name, unit.id, ctx)

    def status(self, instance: ServiceInstance, ctx: CallContext) -> str:
        self._call("status", instance.name, "", ctx)
        return self.status_text

    def info(self, instance: ServiceInstance, ctx: CallContext) -> list[dict[str, str]]:
        self._call("info", instance.name, "", ctx)
        return list(self.info_items)

    def plans(self, ctx: CallContext) -> list[Plan] | None:
        self._call("plans", "", "", ctx)
        return self.plan_list


class FakeClients:
    """Every service's API is the FakeServiceApi of its name (made on first use)."""

    def __init__(self) -> None:
        self.apis: dict[str, FakeServiceApi] = {}
        self.catalogs: dict[str, Catalog] = {}
        self.urls: dict[str, str] = {}

    def api(self, service: str) -> FakeServiceApi:
        return self.apis.setdefault(service, FakeServiceApi())

    def endpoint(self, service: Service, url: str) -> FakeServiceApi:
        self.urls[service.name] = url
        return self.api(service.name)

    def broker(self, broker: Broker, service: CatalogService) -> FakeServiceApi:
        api = self.api(f"{broker.name}::{service.name}")
        api.broker = True
        api.plan_list = [Plan(p.name, p.description, p.schemas) for p in service.plans]
        return api

    def catalog(self, broker: Broker) -> Catalog:
        if broker.name not in self.catalogs:
            raise errors.ServiceApiError(f"broker {broker.name} is down")
        return self.catalogs[broker.name]


class MemoryApps:
    """The apps context in memory, with docs/runtime.md's service-envs rules."""

    def __init__(self) -> None:
        self.apps: dict[str, AppView] = {}
        self.envs: dict[str, list[tuple[str, str, str, str]]] = {}  # app -> (svc, inst, k, v)
        self.restarts: list[str] = []
        self.fail_restart = False

    def add(self, name: str, *, teams: tuple[str, ...] = ("blue",), pool: str = "p1",
            units: tuple[AppUnit, ...] = ()) -> AppView:  # fmt: skip
        app = AppView(name, teams, teams[0], pool, (f"{name}.tsubame.localhost",), units=units)
        self.apps[name] = app
        return app

    def get(self, name: str) -> AppView | None:
        return self.apps.get(name)

    def _restart(self, app: str, restart: bool) -> Iterator[str]:
        if restart and self.apps[app].units:
            yield f'---- Restarting the app "{app}" ----\n'
            if self.fail_restart:
                raise errors.ServiceApiError(f'restart of "{app}" failed')
            self.restarts.append(app)

    def set_envs(
        self, app: str, service: str, instance: str, envs: Mapping[str, str], restart: bool
    ) -> Iterator[str]:
        if app not in self.apps:
            raise errors.AppNotFound(app)
        kept = [e for e in self.envs.get(app, []) if (e[0], e[1]) != (service, instance)]
        self.envs[app] = kept + [(service, instance, k, envs[k]) for k in sorted(envs)]
        if envs:
            yield f"---- Setting {len(envs) + 1} new environment variables ----\n"
            yield from self._restart(app, restart)

    def unset_envs(self, app: str, service: str, instance: str, restart: bool) -> Iterator[str]:
        current = self.envs.get(app, [])
        kept = [e for e in current if (e[0], e[1]) != (service, instance)]
        self.envs[app] = kept
        if len(current) > len(kept) and app in self.apps:
            yield f"---- Unsetting {len(current) - len(kept)} environment variables ----\n"
            yield from self._restart(app, restart)


@dataclass
class MemoryPools:
    pools: dict[str, PoolInfo] = field(default_factory=dict)
    allowed: dict[str, list[str]] = field(default_factory=dict)  # pool -> allowed services

    def get(self, name: str) -> PoolInfo | None:
        return self.pools.get(name)

    def allowed_services(self, pool: str, names: list[str]) -> list[str] | None:
        if pool not in self.pools:
            return None
        limit = self.allowed.get(pool)
        return list(names) if limit is None else [n for n in names if n in limit]

    def visible(self, teams: list[str] | None) -> list[str]:
        return sorted(self.pools)


@dataclass
class MemoryTeams:
    teams: list[str] = field(default_factory=lambda: ["blue", "red"])

    def names(self) -> list[str]:
        return list(self.teams)


@dataclass
class FakeProxy:
    requests: list[ProxyRequest] = field(default_factory=list)
    answer: ProxyResponse | None = None

    def forward(self, request: ProxyRequest) -> ProxyResponse:
        self.requests.append(request)
        if self.answer is not None:
            return self.answer
        return ProxyResponse(200, [("Content-Type", "text/plain")], iter([b"proxied"]))


def fake_deps() -> Deps:
    recorder = FakeRecorder()
    return Deps(
        stores=memory_stores(),
        recorder=recorder,
        publisher=RecordingPublisher(),
        clients=FakeClients(),
        apps=MemoryApps(),
        pools=MemoryPools(pools={"p1": PoolInfo("p1", "process")}),
        teams=MemoryTeams(),
        proxy=FakeProxy(),
        events=StoredEvents(recorder.memory),
        config=Config(),
    )


def a_service(name: str = "mysql", **kw: Any) -> Service:
    fields: dict[str, Any] = dict(
        password="s3cret", endpoint={"production": "http://api.example"}, owner_teams=["blue"]
    )
    fields.update(kw)
    return Service(name=name, **fields)


def an_instance(name: str = "db1", service: str = "mysql", **kw: Any) -> ServiceInstance:
    fields: dict[str, Any] = dict(teams=["blue"], team_owner="blue")
    fields.update(kw)
    return ServiceInstance(name=name, service_name=service, **fields)
