"""Plans (provisioning.md §3.2)."""

from __future__ import annotations

from flask import Response

from services.provisioner.api import responses as out
from services.provisioner.api.deps import deps
from services.provisioner.api.presenters import plan_json
from services.provisioner.api.schemas import PlanInput
from services.provisioner.domain.models import Plan
from services.provisioner.domain.rules import parse_quantity
from services.provisioner.operations import plans
from shared.golang.strconv import NumError, atoi, parse_bool
from shared.http import (
    TEXT,
    Blueprint,
    authenticated,
    empty,
    input_fields,
    input_value,
    json_response,
    list_of,
    require_identity,
    requires,
)
from shared.http.responses import dumps

bp = Blueprint("plans", __name__)


def _int(name: str) -> int:
    try:
        return atoi(input_value(name))
    except NumError:
        return 0  # tsuru ignores what strconv.Atoi refuses


def _bool(name: str) -> bool:
    try:
        return parse_bool(input_value(name))
    except NumError:
        return False


@bp.route("/plans", methods=["POST"])
@bp.input(PlanInput, description="fields are read one by one; unparsable numbers count as 0")
@bp.output(201, TEXT, description="Plan created: its JSON, sent as text/plain as tsuru does")
@bp.errors(400, {409: "Plan already exists"})
@requires("plan.create")
def create_plan() -> Response:
    plan = Plan(
        name=input_value("name"),
        memory=parse_quantity(input_value("memory")),
        swap=parse_quantity(input_value("swap")),
        cpumilli=_int("cpumilli"),
        cpushare=_int("cpushare"),
        default=_bool("default"),
    )
    created = plans.create_plan(deps(), require_identity(), plan, input_fields())
    # tsuru writes the JSON without a Content-Type: Go's sniffing calls it text.
    return Response(dumps(plan_json(created)) + "\n", status=201,
                    content_type="text/plain; charset=utf-8")  # fmt: skip


@bp.route("/plans", methods=["GET"])
@bp.output(200, list_of(out.PlanInfo))
@bp.output(204, description="No plan")
@authenticated("any token lists the plans (tsuru checks no permission)")
def list_plans() -> Response:
    found = plans.list_plans(deps())
    return json_response([plan_json(p) for p in found]) if found else empty(204)


@bp.route("/plans/<planname>", methods=["DELETE"])
@bp.output(200, description="Plan removed")
@bp.errors({404: "Plan not found"})
@requires("plan.delete")
def remove_plan(planname: str) -> Response:
    plans.remove_plan(deps(), require_identity(), planname, input_fields())
    return empty(200)
