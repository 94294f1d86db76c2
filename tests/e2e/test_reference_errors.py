"""The refusals of the apps and catalog endpoints, through the gateway, with the status
and the plain text the reference gives (apps.md §2, §3, §9; catalog.md §1-§3), or the
status docs/compatibility.md records where Tsubame deliberately differs."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from scripts.stack import Stack
from services.catalog.tests.peers.service_api import FakeServiceApi
from tests.e2e.conftest import bearer

pytestmark = pytest.mark.e2e

WRITE_PROTECTED = (
    "Can't change the following environment variables (write protected): "
    "[TSURU_APPNAME TSURU_APP_TOKEN TSURU_SERVICE TSURU_APPDIR]"
)


@pytest.fixture(scope="module")
def api() -> Iterator[FakeServiceApi]:
    fake = FakeServiceApi()
    yield fake
    fake.close()


@pytest.fixture(scope="module")
def names(stack: Stack, admin_token: str, api: FakeServiceApi) -> dict[str, str]:
    admin = bearer(admin_token)
    made = {k: f"{k[0]}{secrets.token_hex(4)}" for k in ("team", "app", "svc")}
    assert requests.post(f"{stack.url}/teams", data={"name": made["team"]}, headers=admin).ok
    r = requests.post(f"{stack.url}/apps", headers=admin,
                      data={"name": made["app"], "teamOwner": made["team"], "platform": "python"})  # fmt: skip
    assert r.status_code == 201, r.text
    data = {"id": made["svc"], "password": "pw", "endpoint": api.url, "team": made["team"]}
    assert requests.post(f"{stack.url}/services", data=data, headers=admin).status_code == 201
    r = requests.post(f"{stack.url}/services/{made['svc']}/instances", headers=admin,
                      data={"name": "i1", "owner": made["team"]})  # fmt: skip
    assert r.status_code == 201, r.text
    return made


# (method, path, request keywords, status, text); {app}, {team}, {svc} filled in.
APPS: list[tuple[str, str, dict[str, Any], int, str]] = [
    ("POST", "/apps", {"data": {"name": "{app}", "teamOwner": "{team}"}}, 409,
     'tsuru failed to create the app "{app}": there is already an app with this name'),
    ("POST", "/apps", {"data": {"name": "tsr", "teamOwner": "{team}"}}, 400,
     "Invalid app name, your app should have at most 40 characters, containing only lower "
     "case letters, numbers or dashes, starting with a letter."),
    ("POST", "/apps", {"data": {"name": "x{app}", "teamOwner": "{team}", "plan": "nope"}}, 400,
     "plan not found"),
    ("POST", "/apps", {"data": {"name": "x{app}", "teamOwner": "{team}", "router": "nope"}}, 400,
     'router "nope" not found'),
    ("POST", "/apps", {"data": {"name": "x{app}", "teamOwner": "nope"}}, 400, "team not found"),
    ("PUT", "/apps/{app}", {"data": {}}, 400,
     "Neither the description, tags, plan, pool, team owner or platform were set. "
     "You must define at least one."),
    ("PUT", "/apps/{app}", {"data": {"router": "r"}}, 400,
     "updating router was deprecated, please add the wanted router and remove the old one"),
    ("PUT", "/apps/{app}", {"data": {"pool": "p", "noRestart": "true"}}, 400,
     "You must restart the app when changing the pool."),
    ("PUT", "/apps/{app}/teams/nope", {}, 404, "Team not found"),
    ("DELETE", "/apps/{app}/teams/nope", {}, 404, "Team not found"),
    ("DELETE", "/apps/{app}/teams/{team}", {}, 403,
     "You can not revoke the access from this team, because it is the unique team with "
     "access to the app, and an app can not be orphaned"),
    ("POST", "/apps/{app}/units/abc", {"data": {"status": "bogus"}}, 400, "invalid status"),
    ("POST", "/apps/{app}/units/abc", {"data": {"status": "started"}}, 404,
     'unit "abc" not found'),
    ("POST", "/apps/{app}/units/register", {"data": {"hostname": "zzz"}}, 404,
     'unit "zzz" not found'),
    ("POST", "/apps/{app}/units/register",
     {"data": {"hostname": "zzz"}, "headers": {"User-Agent": "Go-http-client/1.1"}}, 400,
     "Please contact admin. python platform is using outdated deploy-agent version, "
     "minimum required version is 0.2.4"),
    ("POST", "/node/status", {"json": {"Addrs": [], "Units": []}}, 403,
     "this token is not allowed to execute this action"),
    ("POST", "/apps/{app}/sleep", {}, 400, "Empty proxy URL"),
    ("POST", "/apps/{app}/units/autoscale",
     {"json": {"process": "web", "minUnits": 0, "maxUnits": 2, "averageCPU": "50%"}}, 400,
     "unable to validate autoscale spec: minimum units must be greater than 0"),
    ("POST", "/apps/{app}/units/autoscale",
     {"json": {"process": "web", "minUnits": 3, "maxUnits": 2, "averageCPU": "50%"}}, 400,
     "unable to validate autoscale spec: maximum units must be greater than minimum units"),
    ("POST", "/apps/{app}/cname", {}, 400, "You must provide the cname."),
    ("POST", "/apps/{app}/cname", {"data": {"cname": "-bad"}}, 400, "Invalid cname"),
    ("DELETE", "/apps/{app}/cname", {}, 400, "You must provide the cname."),
    ("PUT", "/apps/{app}/certificate", {}, 400, "You must provide a cname."),
    ("PUT", "/apps/{app}/certificate",
     {"data": {"cname": "q.example.com", "certificate": "x", "key": "y"}}, 400, "invalid name"),
    ("DELETE", "/apps/{app}/certificate", {}, 400, "You must provide a cname."),
    ("POST", "/apps/{app}/routers", {"data": {"name": "nope"}}, 404, 'router "nope" not found'),
    ("PUT", "/apps/{app}/routers/nope", {"data": {"opts.a": "b"}}, 404,
     'router "nope" not found'),
    ("DELETE", "/apps/{app}/routers/nope", {}, 404, 'router "nope" not found'),
    ("PUT", "/apps/{app}/quota", {"data": {"limit": "x"}}, 400, "Invalid limit"),
    ("POST", "/swap", {"data": {"app1": "{app}", "app2": "nope"}}, 404, "App nope not found."),
    ("POST", "/apps/{app}/env", {"json": {}}, 400,
     "You must provide the list of environment variables"),
    ("POST", "/apps/{app}/env", {"json": {"envs": [{"name": "TSURU_APPNAME", "value": "x"}]}},
     400, WRITE_PROTECTED),
    ("POST", "/apps/{app}/env", {"json": {"envs": [{"name": "1A", "value": "x"}]}}, 400,
     "Invalid environment variable name: '1A'"),
    ("POST", "/apps/{app}/env",
     {"json": {"envs": [{"name": "A", "value": "x"}], "pruneUnused": True}}, 400,
     "Prune unused requires a managed-by value"),
    ("DELETE", "/apps/{app}/env", {}, 400, "You must provide the list of environment variables."),
    ("GET", "/apps/{app}/log", {}, 400, 'Parameter "lines" is mandatory.'),
    ("POST", "/apps/{app}/diff", {}, 410, "diff deploy is deprecated, this call does nothing"),
    ("DELETE", "/apps/{app}/lock", {}, 410, "app unlock is deprecated, this call does nothing"),
    ("POST", "/apps/{app}/deploy/rollback", {"data": {}}, 400,
     "you cannot rollback without an image name"),
    ("PUT", "/apps/{app}/deploy/rollback/update", {"data": {"image": "v1", "disable": "true"}},
     400, "Reason cannot be empty while disabling a image rollback"),
    ("POST", "/apps/{app}/deploy/rebuild", {}, 400, "Invalid deployment origin"),
    ("POST", "/apps/{app}/deploy", {"data": {}}, 400,
     "you must specify either the archive-url, a image url or upload a file."),
    ("GET", "/apps/nope-{app}", {}, 404, "App nope-{app} not found."),
]  # fmt: skip

CATALOG: list[tuple[str, str, dict[str, Any], int, str]] = [
    ("POST", "/services", {"data": {"id": "{svc}", "password": "p", "endpoint": "http://a",
                                    "team": "{team}"}}, 409, "Service already exists."),
    ("POST", "/services", {"data": {"password": "p", "endpoint": "http://a", "team": "{team}"}},
     400, "Service id is required"),
    ("PUT", "/services/nope", {"data": {"password": "p", "endpoint": "http://a"}}, 404,
     "Service not found"),
    ("PUT", "/services/{svc}", {"data": {"password": "p"}}, 400,
     "At least one endpoint is required"),
    ("PUT", "/services/{svc}", {"data": {"endpoint": "http://a"}}, 400,
     "Service password is required"),
    ("GET", "/services/nope", {}, 404, "Service not found"),
    ("GET", "/services/nope/doc", {}, 404, "Service not found"),
    ("PUT", "/services/{svc}/team/nope", {}, 400, "Team not found"),
    ("DELETE", "/services/{svc}/team/nope", {}, 400, "Team not found"),
    ("DELETE", "/services/{svc}", {}, 403,
     "This service cannot be removed because it has instances.\n"
     "Please remove these instances before removing the service."),
    ("POST", "/services/nope/instances", {"data": {"name": "i9", "owner": "{team}"}}, 404,
     "Service not found"),
    ("POST", "/services/{svc}/instances", {"data": {"name": "1_Bad!", "owner": "{team}"}}, 400,
     "invalid service instance name"),
    ("POST", "/services/{svc}/instances", {"data": {"name": "i1", "owner": "{team}"}}, 409,
     "instance name already exists."),
    ("POST", "/services/{svc}/instances", {"data": {"name": "i9", "owner": "nope"}}, 400,
     "Team owner doesn't exist"),
    ("POST", "/services/{svc}/instances",
     {"data": {"name": "i9", "owner": "{team}", "pool": "x"}}, 400,
     "regular (non-multi-cluster) service instance cannot belong to a pool"),
    ("GET", "/services/{svc}/instances/nope", {}, 404, "service instance not found"),
    ("GET", "/services/nope/instances/i1", {}, 404, "Service not found"),
    ("PUT", "/services/{svc}/instances/i1", {"data": {"description": "x"}}, 400,
     "please specify the team that owns the service instance"),
    ("PUT", "/services/{svc}/instances/permission/i1/nope", {}, 404, "team not found"),
    ("DELETE", "/services/{svc}/instances/permission/i1/{team}", {}, 400,
     "cannot revoke the instance's team owner access"),
    ("PUT", "/services/{svc}/instances/nope/{app}", {}, 404, "service instance not found"),
    ("PUT", "/services/{svc}/instances/i1/nope-{app}", {}, 404, "App nope-{app} not found."),
    ("DELETE", "/services/{svc}/instances/i1/{app}", {}, 400,
     "app is not bound to this service instance"),
    ("GET", "/services/proxy/service/nope?callback=/x", {}, 404, "Service not found"),
    ("GET", "/services/{svc}/proxy/nope?callback=/x", {}, 404, "service instance not found"),
    ("POST", "/brokers", {"json": {"Name": "b1", "URL": "notaurl"}}, 400,
     'invalid broker URL "notaurl": the URL must start with http:// or https://'),
    ("DELETE", "/brokers/nope", {}, 404, "service broker not found"),
]  # fmt: skip


def _fill(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**names)
    if isinstance(value, dict):
        return {k: _fill(v, names) for k, v in value.items()}
    return value


@pytest.mark.parametrize(("method", "path", "kw", "status", "text"), APPS + CATALOG)
def test_refusals_answer_the_references_status_and_text(
    stack: Stack, admin_token: str, names: dict[str, str],
    method: str, path: str, kw: dict[str, Any], status: int, text: str,
) -> None:  # fmt: skip
    kw = _fill(kw, names)
    headers = {**bearer(admin_token), **kw.pop("headers", {})}
    r = requests.request(method, stack.url + _fill(path, names), headers=headers, timeout=60,
                         **kw)  # fmt: skip
    assert (r.status_code, r.text) == (status, _fill(text, names) + "\n")
    assert r.headers["Content-Type"] == "text/plain; charset=utf-8"
