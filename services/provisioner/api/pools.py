"""Pools and pool constraints (provisioning.md §3.1)."""

from __future__ import annotations

from flask import Response, request

from services.provisioner.api import responses as out
from services.provisioner.api.deps import deps
from services.provisioner.api.presenters import constraint_json, pool_json
from services.provisioner.api.schemas import (
    ConstraintInput,
    PoolCreate,
    PoolTeams,
    PoolUpdate,
    TeamsQuery,
)
from services.provisioner.domain.models import Constraint
from services.provisioner.operations import pools
from shared.golang.strconv import NumError, parse_bool
from shared.http import (
    QUERY,
    Blueprint,
    authenticated,
    empty,
    input_fields,
    input_value,
    input_values,
    json_response,
    list_of,
    parse_input,
    require_identity,
    requires,
)
from shared.permissions import ensure

bp = Blueprint("pools", __name__)


@bp.route("/pools", methods=["GET"])
@bp.output(200, list_of(out.PoolInfo))
@bp.output(204, description="No pool visible to the caller")
@authenticated("lists the pools where the caller may create apps or read pools")
def list_pools() -> Response:
    found = pools.list_pools(deps(), require_identity())
    return json_response([pool_json(p) for p in found]) if found else empty(204)


@bp.route("/pools/<name>", methods=["GET"])
@bp.output(200, out.PoolInfo)
@bp.errors({404: "Pool not found"})
@requires("pool.read")
def get_pool(name: str) -> Response:
    return json_response(pool_json(pools.get_pool(deps(), require_identity(), name)))


@bp.route("/pools", methods=["POST"])
@bp.input(PoolCreate, description="`labels.<key>=<value>` form fields set labels")
@bp.output(201, description="Pool created")
@bp.errors(400, {409: "Pool or default pool already exists"})
@requires("pool.create")
def create_pool() -> Response:
    identity = require_identity()
    # tsuru checks pool.create before decoding the body (the operation checks it again).
    ensure(identity, "pool.create")
    data = parse_input(PoolCreate())
    new = pools.NewPool(data["name"], data["public"], data["default"], data["force"],
                        data["provisioner"], data["labels"])  # fmt: skip
    pools.create_pool(deps(), identity, new, input_fields())
    return empty(201)


@bp.route("/pools/<name>", methods=["PUT"])
@bp.input(PoolUpdate, description="absent booleans leave the pool as it is")
@bp.output(200, description="Pool updated")
@bp.errors(400, {404: "Pool not found", 409: "Default pool already exists"})
@requires("pool.update")
def update_pool(name: str) -> Response:
    identity = require_identity()
    ensure(identity, "pool.update")  # tsuru: 403 before a decode error
    fields = input_fields()
    data = parse_input(PoolUpdate())
    change = pools.PoolChange(data["default"], data["public"], data["force"], data["labels"])
    pools.update_pool(deps(), identity, name, change, fields)
    return empty(200)


@bp.route("/pools/<name>", methods=["DELETE"])
@bp.output(200, description="Pool removed")
@bp.errors({403: "Pool still has apps", 404: "Pool not found"})
@requires("pool.delete")
def remove_pool(name: str) -> Response:
    pools.delete_pool(deps(), require_identity(), name, input_fields())
    return empty(200)


@bp.route("/pools/<name>/team", methods=["POST"])
@bp.input(PoolTeams)
@bp.output(200, description="Pool updated")
@bp.errors({400: "Invalid data", 404: "Pool not found"})
@requires("pool.update.team.add")
def add_teams(name: str) -> Response:
    pools.add_teams(deps(), require_identity(), name, input_values("team"), input_fields())
    return empty(200)


@bp.route("/pools/<name>/team", methods=["DELETE"])
@bp.input(TeamsQuery, QUERY)
@bp.output(200, description="Pool updated")
@bp.errors({400: "Invalid data", 404: "Pool not found"})
@requires("pool.update.team.remove")
def remove_teams(name: str) -> Response:
    # tsuru reads the teams from the query string only.
    teams = request.args.getlist("team")
    pools.remove_teams(deps(), require_identity(), name, teams, input_fields())
    return empty(200)


@bp.route("/constraints", methods=["GET"])
@bp.output(200, list_of(out.ConstraintInfo))
@bp.output(204, description="No constraint")
@requires("pool.read.constraints")
def list_constraints() -> Response:
    found = pools.list_constraints(deps(), require_identity())
    return json_response([constraint_json(c) for c in found]) if found else empty(204)


@bp.route("/constraints", methods=["PUT"])
@bp.input(ConstraintInput, description="`Values.<i>` form fields; `append` may be in the query")
@bp.output(200, description="Constraint set")
@bp.errors(400)
@requires("pool.update.constraints.set")
def set_constraint() -> Response:
    identity = require_identity()
    ensure(identity, "pool.update.constraints.set")  # tsuru: 403 before a decode error
    fields = input_fields()
    data = parse_input(ConstraintInput())
    raw = input_value("append")
    try:
        append = parse_bool(raw) if raw else False
    except NumError:
        append = False  # tsuru ignores an unparsable append
    constraint = Constraint(data["PoolExpr"], data["Field"], tuple(data["Values"]),
                            data["Blacklist"])  # fmt: skip
    pools.set_constraint(deps(), identity, constraint, append, fields)
    return empty(200)
