"""tsuru's client of a service API (catalog.md §c, tsuru-1.11-service_api.yaml): the
calls, their form fields and headers, and tsuru's reading of each answer."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from services.catalog.adapters.outbound import Answer, Outbound, Unreachable
from services.catalog.domain import errors
from services.catalog.domain.models import AppUnit, AppView, Plan, Service, ServiceInstance
from services.catalog.domain.rules import flatten_parameters, pool_headers
from services.catalog.operations.deps import BindResult, CallContext

Form = list[tuple[str, str]]


def invalid(answer: Answer) -> str:
    return f"invalid response: {answer.text} (code: {answer.status})"


def decode_envs(body: bytes) -> dict[str, str]:
    """The bind-app answer as Go decodes it into map[string]string."""
    if not body.strip():
        raise errors.ServiceApiError("EOF")
    try:
        value = json.loads(body)
    except ValueError as exc:
        raise errors.ServiceApiError(f"invalid character in the bind answer: {exc}") from exc
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise errors.ServiceApiError(
            f"json: cannot unmarshal {_go_type(value)} into Go value of type map[string]string"
        )
    for v in value.values():
        if not isinstance(v, str):
            raise errors.ServiceApiError(
                f"json: cannot unmarshal {_go_type(v)} into Go value of type string"
            )
    return {str(k): v for k, v in value.items()}


def _go_type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "string"


class EndpointClient:
    def __init__(self, out: Outbound, service: Service, url: str) -> None:
        self._out = out
        self._service = service
        self._base = url.rstrip("/")
        self._label = f'service "{service.name}"'

    # -- transport ---------------------------------------------------------------------

    def _call(self, method: str, path: str, form: Form, ctx: CallContext, *, event: bool) -> Answer:
        headers = [("Accept", "application/json"), ("Connection", "close")]
        if event and ctx.event_id:
            headers += [("X-Tsuru-User", ctx.user), ("X-Tsuru-Eventid", ctx.event_id)]
        headers += pool_headers(ctx.pool)
        # Go's url.Values.Encode: keys sorted, repeated values in order.
        encoded = urlencode(sorted(form, key=lambda kv: kv[0]))
        url = f"{self._base}/{path.strip('/')}"
        if method == "GET":
            # tsuru puts the (empty) form in the query: the URL ends with a bare "?".
            return self._out.request(
                self._label, method, f"{url}?{encoded}", headers=headers, auth=self._auth
            )
        headers.append(("Content-Type", "application/x-www-form-urlencoded"))
        return self._out.request(
            self._label, method, url, headers=headers, data=encoded.encode(), auth=self._auth
        )

    @property
    def _auth(self) -> tuple[str, str]:
        return (self._service.basic_user, self._service.password)

    @staticmethod
    def _who(ctx: CallContext) -> Form:
        return [("user", ctx.user), ("eventid", ctx.event_id)]

    # -- instances -----------------------------------------------------------------------

    def create(self, instance: ServiceInstance, ctx: CallContext) -> None:
        form: Form = [("name", instance.name), ("team", instance.team_owner), *self._who(ctx)]
        form += [("tags", t) for t in instance.tags]
        if instance.plan_name:
            form.append(("plan", instance.plan_name))
        if instance.description:
            form.append(("description", instance.description))
        form += flatten_parameters(instance.parameters)
        prefix = f"Failed to create the instance {instance.name}"
        try:
            answer = self._call("POST", "/resources", form, ctx, event=True)
        except Unreachable as exc:
            raise errors.ServiceApiError(f"{prefix}: {exc}") from exc
        if answer.status < 300:
            return None
        if answer.status == 409:
            raise errors.InstanceExistsInApi()
        raise errors.ServiceApiError(f"{prefix}: {invalid(answer)}")

    def update(self, instance: ServiceInstance, ctx: CallContext) -> None:
        form: Form = [
            ("description", instance.description),
            ("team", instance.team_owner),
            ("plan", instance.plan_name),
            *self._who(ctx),
        ]
        form += [("tags", t) for t in instance.tags]
        form += flatten_parameters(instance.parameters)
        answer = self._call("PUT", f"/resources/{instance.identifier}", form, ctx, event=True)
        if answer.status > 299 and answer.status != 404:  # tsuru ignores a 404 here
            raise errors.ServiceApiError(
                f"Failed to update the instance {instance.name}: {invalid(answer)}"
            )
        return None

    def destroy(self, instance: ServiceInstance, ctx: CallContext) -> None:
        path = f"/resources/{instance.identifier}"
        answer = self._call("DELETE", path, self._who(ctx), ctx, event=True)
        if answer.status == 404:
            raise errors.InstanceNotFoundInApi()
        if answer.status > 299:
            raise errors.ServiceApiError(
                f"Failed to destroy the instance {instance.name}: {invalid(answer)}"
            )

    def status(self, instance: ServiceInstance, ctx: CallContext) -> str:
        prefix = f"Failed to get status of instance {instance.name}"
        try:
            answer = self._call(
                "GET", f"/resources/{instance.identifier}/status", [], ctx, event=False
            )
        except Unreachable as exc:
            raise errors.ServiceApiError(f"{prefix}: {exc}") from exc
        known = {202: "pending", 204: "up", 404: "not implemented for this service", 500: "down"}
        if answer.status == 200:
            return answer.text
        if answer.status in known:
            return known[answer.status]
        raise errors.ServiceApiError(f"{prefix}: {invalid(answer)}")

    def info(self, instance: ServiceInstance, ctx: CallContext) -> list[dict[str, str]]:
        answer = self._call("GET", f"/resources/{instance.identifier}", [], ctx, event=False)
        if answer.status != 200:
            return []
        try:
            items = json.loads(answer.body)
        except ValueError as exc:
            raise errors.ServiceApiError(f"invalid info answer: {exc}") from exc
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise errors.ServiceApiError(
                "json: cannot unmarshal the info answer into Go value of type []map[string]string"
            )
        return [{str(k): str(v) for k, v in i.items()} for i in items]

    def plans(self, ctx: CallContext) -> list[Plan] | None:
        answer = self._call("GET", "/resources/plans", [], ctx, event=False)
        if answer.status == 400:
            try:
                missing = json.loads(answer.body).get("missing_params") or []
            except (ValueError, AttributeError):
                missing = []
            if "cluster" in missing:
                raise errors.MissingPool([])
        if answer.status != 200:
            return None
        try:
            items = json.loads(answer.body)
        except ValueError as exc:
            raise errors.ServiceApiError(f"invalid plans answer: {exc}") from exc
        if not isinstance(items, list):
            return None
        return [
            Plan(str(p.get("name", "")), str(p.get("description", "")))
            for p in items
            if isinstance(p, dict)
        ]

    # -- binds -----------------------------------------------------------------------------

    def _app_form(self, app: AppView) -> Form:
        form: Form = [("app-hosts", h) for h in app.addresses]
        if app.addresses:
            form.append(("app-host", app.addresses[0]))
        return form

    def bind_app(
        self, instance: ServiceInstance, app: AppView, params: dict[str, Any], ctx: CallContext
    ) -> BindResult:
        form = flatten_parameters(params)
        form += [("app-name", app.name), *self._who(ctx), *self._app_form(app)]
        form += [("app-internal-hosts", h) for h in app.internal_addresses]
        pool = app.pool_info
        if pool is not None:
            form += [("app-pool-name", pool.name), ("app-pool-provisioner", pool.provisioner)]
            if pool.cluster is not None:
                form += [
                    ("app-cluster-name", pool.cluster.name),
                    ("app-cluster-provisioner", pool.cluster.provisioner),
                ]
                form += [("app-cluster-addresses", a) for a in pool.cluster.addresses]
        base = f"/resources/{instance.identifier}"
        try:
            answer = self._call("POST", f"{base}/bind-app", form, ctx, event=True)
            if answer.status == 404:  # an API of tsuru's older contract
                answer = self._call("POST", f"{base}/bind", form, ctx, event=True)
        except Unreachable as exc:
            raise errors.ServiceApiError(
                f'Failed to bind app "{app.name}" to service instance "{instance.key}": {exc}'
            ) from exc
        if answer.status < 300:
            return BindResult(decode_envs(answer.body))
        if answer.status == 412:
            raise errors.InstanceNotReady()
        if answer.status == 404:
            raise errors.InstanceNotFoundInApi()
        raise errors.ServiceApiError(
            f'Failed to bind the instance "{instance.key}" to the app "{app.name}": '
            f"{invalid(answer)}"
        )

    def unbind_app(self, instance: ServiceInstance, app: AppView, ctx: CallContext) -> None:
        path = f"/resources/{instance.identifier}/bind-app"
        form = [("app-name", app.name), *self._who(ctx), *self._app_form(app)]
        answer = self._call("DELETE", path, form, ctx, event=True)
        if answer.status == 404:
            raise errors.InstanceNotFoundInApi()
        if answer.status > 299:
            raise errors.ServiceApiError(f'Failed to unbind ("{path}"): {invalid(answer)}')
        return None

    def bind_unit(
        self, instance: ServiceInstance, app: AppView, unit: AppUnit, ctx: CallContext
    ) -> None:
        form = [("app-name", app.name), *self._app_form(app), ("unit-host", unit.ip)]
        what = f'Failed to bind the instance "{instance.key}" to the unit "{unit.ip}"'
        try:
            answer = self._call(
                "POST", f"/resources/{instance.identifier}/bind", form, ctx, event=False
            )
        except Unreachable as exc:
            raise errors.ServiceApiError(f"{what}: {exc}") from exc
        if answer.status == 412:
            raise errors.InstanceNotReady()
        if answer.status == 404:
            raise errors.InstanceNotFoundInApi()
        if answer.status > 299:
            raise errors.ServiceApiError(f"{what}: {invalid(answer)}")

    def unbind_unit(
        self, instance: ServiceInstance, app: AppView, unit: AppUnit, ctx: CallContext
    ) -> None:
        path = f"/resources/{instance.identifier}/bind"
        form = [*self._app_form(app), ("unit-host", unit.ip)]
        answer = self._call("DELETE", path, form, ctx, event=False)
        if answer.status == 404:
            raise errors.InstanceNotFoundInApi()
        if answer.status > 299:
            raise errors.ServiceApiError(f'Failed to unbind ("{path}"): {invalid(answer)}')
