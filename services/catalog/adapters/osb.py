"""An Open Service Broker API v2 client for one broker service (catalog.md §d.3),
shaped like tsuru's brokerClient over go-open-service-broker-client.

That library refuses asynchronous binding unless alpha features are on (tsuru leaves
them off and retries synchronously), so bind and unbind are sent without
``accepts_incomplete``; provision, update and deprovision accept it, and the instance
status polls ``last_operation``.
"""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import replace
from typing import Any
from urllib.parse import quote, urlencode

from services.catalog.adapters.outbound import Answer, Outbound
from services.catalog.domain import errors
from services.catalog.domain.models import (
    AppUnit,
    AppView,
    Broker,
    BrokerBind,
    BrokerData,
    Catalog,
    CatalogPlan,
    CatalogService,
    Plan,
    ServiceInstance,
)
from services.catalog.domain.rules import form_value
from services.catalog.operations.deps import BindResult, CallContext

API_VERSION = "2.13"


class OsbError(errors.ServiceApiError):
    """go-open-service-broker-client's HTTPStatusCodeError text."""

    def __init__(self, answer: Answer) -> None:
        message = description = "<nil>"
        try:
            body = json.loads(answer.body)
        except ValueError:
            body = None
        if isinstance(body, dict):
            message = str(body.get("error", "<nil>"))
            description = str(body.get("description", "<nil>"))
        super().__init__(
            f"Status: {answer.status}; ErrorMessage: {message}; Description: {description}; "
            "ResponseError: <nil>"
        )


def parse_catalog(answer: Answer) -> Catalog:
    try:
        body = json.loads(answer.body)
    except ValueError as exc:
        raise errors.ServiceApiError(f"invalid catalog from the broker: {exc}") from exc
    services = body.get("services") if isinstance(body, dict) else None
    if not isinstance(services, list):
        raise errors.ServiceApiError("invalid catalog from the broker: no services list")
    out = []
    for s in services:
        if not isinstance(s, dict):
            continue
        plans = tuple(
            CatalogPlan(
                str(p.get("id", "")),
                str(p.get("name", "")),
                str(p.get("description", "")),
                p.get("schemas"),
            )  # fmt: skip
            for p in s.get("plans") or []
            if isinstance(p, dict)
        )
        out.append(
            CatalogService(
                str(s.get("id", "")), str(s.get("name", "")), str(s.get("description", "")), plans
            )  # fmt: skip
        )
    return Catalog(tuple(out))


class BrokerApi:
    """The broker's HTTP side: URL, authentication, version header."""

    def __init__(self, out: Outbound, broker: Broker) -> None:
        self._out = out
        self.broker = broker
        self._label = f'service broker "{broker.name}"'

    def call(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, str] | None = None,
        body: Any = None,
        identity: dict[str, str] | None = None,
    ) -> Answer:
        headers = {"X-Broker-API-Version": API_VERSION, "Accept": "application/json"}
        auth_config = self.broker.config.auth
        auth = None
        if auth_config is not None:
            if auth_config.basic_username is not None:
                auth = (auth_config.basic_username, auth_config.basic_password)
            elif auth_config.bearer_token is not None:
                headers["Authorization"] = f"Bearer {auth_config.bearer_token}"
        if identity is not None:
            value = base64.b64encode(json.dumps(identity).encode()).decode()
            headers["X-Broker-API-Originating-Identity"] = f"tsuru {value}"
        url = self.broker.url.rstrip("/") + path
        if query:
            url += "?" + urlencode(query)
        return self._out.request(
            self._label, method, url, headers=headers, json=body, auth=auth,
            verify=not self.broker.config.insecure,
        )  # fmt: skip

    def catalog(self) -> Catalog:
        answer = self.call("GET", "/v2/catalog")
        if answer.status != 200:
            raise OsbError(answer)
        return parse_catalog(answer)


def _operation(answer: Answer) -> str:
    try:
        body = json.loads(answer.body) if answer.body.strip() else {}
    except ValueError:
        return ""
    return str(body.get("operation") or "") if isinstance(body, dict) else ""


class BrokerClient:
    def __init__(self, out: Outbound, broker: Broker, service: CatalogService) -> None:
        self._api = BrokerApi(out, broker)
        self._broker = broker
        self._service = service

    def _plan(self, name: str) -> CatalogPlan:
        plan = next((p for p in self._service.plans if p.name == name), None)
        if plan is None:
            raise errors.InvalidPlan(name)
        return plan

    def _context(self, ctx: CallContext, **extra: str) -> dict[str, Any]:
        out: dict[str, Any] = {"request_id": ctx.request_id, "event_id": ctx.event_id, **extra}
        out.update(self._broker.config.context)
        return out

    @staticmethod
    def _path(data: BrokerData) -> str:
        return f"/v2/service_instances/{quote(data.uuid, safe='')}"

    def create(self, instance: ServiceInstance, ctx: CallContext) -> BrokerData:
        plan = self._plan(instance.plan_name)
        org = str(uuid.uuid4())
        data = BrokerData(str(uuid.uuid4()), self._service.id, plan.id, org, org)
        body = {
            "service_id": data.service_id,
            "plan_id": data.plan_id,
            "organization_guid": org,
            "space_guid": org,
            "parameters": instance.parameters,
            "context": self._context(ctx, organization_guid=org, space_guid=org),
        }
        answer = self._api.call(
            "PUT", self._path(data), query={"accepts_incomplete": "true"}, body=body,
            identity={"user": ctx.user},
        )  # fmt: skip
        if answer.status not in (200, 201, 202):
            raise OsbError(answer)
        return replace(data, last_operation_key=_operation(answer))

    def update(self, instance: ServiceInstance, ctx: CallContext) -> BrokerData:
        data = instance.broker_data
        if data is None:
            raise errors.InvalidBrokerData()
        plan = self._plan(instance.plan_name)
        body = {
            "service_id": self._service.id,
            "plan_id": plan.id,
            "parameters": instance.parameters,
            "context": self._context(ctx),
            "previous_values": {
                "plan_id": data.plan_id,
                "service_id": data.service_id,
                "organization_id": data.org_id,
                "space_id": data.space_id,
            },
        }
        answer = self._api.call(
            "PATCH", self._path(data), query={"accepts_incomplete": "true"}, body=body,
            identity={"user": ctx.user},
        )  # fmt: skip
        if answer.status not in (200, 202):
            raise OsbError(answer)
        op = _operation(answer) or data.last_operation_key
        return replace(data, plan_id=plan.id, service_id=self._service.id, last_operation_key=op)

    def destroy(self, instance: ServiceInstance, ctx: CallContext) -> None:
        data = instance.broker_data
        if data is None:
            return  # tsuru: nothing was provisioned with the broker
        query = {"accepts_incomplete": "true", "service_id": data.service_id,
                 "plan_id": data.plan_id}  # fmt: skip
        answer = self._api.call("DELETE", self._path(data), query=query,
                                identity={"user": ctx.user})  # fmt: skip
        if answer.status not in (200, 202, 410):
            raise OsbError(answer)

    def bind_app(
        self, instance: ServiceInstance, app: AppView, params: dict[str, Any], ctx: CallContext
    ) -> BindResult:
        data = instance.broker_data
        if data is None:
            raise errors.InvalidBrokerData()
        bind = BrokerBind(str(uuid.uuid4()), "", dict(params) or None)
        guid = app.uuid or str(uuid.uuid5(uuid.NAMESPACE_URL, f"tsubame:app:{app.name}"))
        body = {
            "service_id": data.service_id,
            "plan_id": data.plan_id,
            "app_guid": guid,
            "bind_resource": {"app_guid": guid},
            "parameters": params or None,
            "context": self._context(ctx),
        }
        path = f"{self._path(data)}/service_bindings/{quote(bind.uuid, safe='')}"
        answer = self._api.call("PUT", path, body=body, identity={"user": ctx.user})
        if answer.status not in (200, 201):
            raise OsbError(answer)
        try:
            credentials = json.loads(answer.body).get("credentials") or {}
        except (ValueError, AttributeError):
            credentials = {}
        # tsuru keeps the string credentials only: numbers, bools and objects are dropped.
        envs = {str(k): v for k, v in credentials.items() if isinstance(v, str)}
        return BindResult(envs, replace(data, binds={**data.binds, app.name: bind}))

    def unbind_app(self, instance: ServiceInstance, app: AppView, ctx: CallContext) -> BrokerData:
        data = instance.broker_data
        if data is None:
            raise errors.InvalidBrokerData()
        bind = data.binds.get(app.name) or BrokerBind("")
        path = f"{self._path(data)}/service_bindings/{quote(bind.uuid, safe='')}"
        query = {"service_id": data.service_id, "plan_id": data.plan_id}
        answer = self._api.call("DELETE", path, query=query, identity={"user": ctx.user})
        if answer.status not in (200, 410):
            raise OsbError(answer)
        return replace(data, binds={k: v for k, v in data.binds.items() if k != app.name})

    def bind_unit(
        self, instance: ServiceInstance, app: AppView, unit: AppUnit, ctx: CallContext
    ) -> None:
        return None  # brokers know nothing of units (tsuru still records them)

    def unbind_unit(
        self, instance: ServiceInstance, app: AppView, unit: AppUnit, ctx: CallContext
    ) -> None:
        return None

    def status(self, instance: ServiceInstance, ctx: CallContext) -> str:
        data = instance.broker_data
        if data is None:
            raise errors.InvalidBrokerData()
        query = {"service_id": data.service_id, "plan_id": data.plan_id}
        if data.last_operation_key:
            query["operation"] = data.last_operation_key
        answer = self._api.call(
            "GET", f"{self._path(data)}/last_operation", query=query,
            identity={"team": instance.team_owner},
        )  # fmt: skip
        if answer.status != 200:
            raise OsbError(answer)
        try:
            body = json.loads(answer.body)
        except ValueError as exc:
            raise errors.ServiceApiError(f"invalid last_operation answer: {exc}") from exc
        if not isinstance(body, dict):
            raise errors.ServiceApiError("invalid last_operation answer")
        out = str(body.get("state", ""))
        if body.get("description") is not None:
            out += f" - {body['description']}"
        return out

    def info(self, instance: ServiceInstance, ctx: CallContext) -> list[dict[str, str]]:
        return [{"label": k, "value": form_value(v)} for k, v in instance.parameters.items()]

    def plans(self, ctx: CallContext) -> list[Plan]:
        return [Plan(p.name, p.description, p.schemas) for p in self._service.plans]
