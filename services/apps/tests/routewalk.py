"""How tests/architecture calls every route of the apps service (see
shared/testing/routewalk.py): a small world (an app named ``x`` owned by team
``blue``), and a sample for each route whose default call does not reach its
permission check or its event."""

from __future__ import annotations

from flask import Flask

from services.apps.bootstrap import config_from, create_app
from services.apps.domain.deploys import DeployRecord
from services.apps.domain.models import App, AppRouter
from services.apps.domain.versions import AppVersion
from services.apps.settings import AppsSettings
from services.apps.tests.certs import pair
from services.apps.tests.fakes import fake_deps
from shared.settings import Settings
from shared.testing.routewalk import RouteWalk, Sample

SETTINGS = AppsSettings.from_settings(
    Settings("/nonexistent", "walk", "", "", b"routewalk-secret-0123456789")
)

PUBLIC: dict[str, str] = {
    # tsuru upgrades first and reports a missing token as an "Error: ..." frame.
    "GET /apps/<appname>/shell": "the websocket answers refusals after the upgrade",
    # tsuru's node log forwarders: the token is checked after the upgrade, as an error frame.
    "GET /logs": "the websocket answers refusals after the upgrade",
}

DEPLOY_ID = "5f0000000000000000000001"
_ARCHIVE = {"archive-url": "http://example.com/app.tar.gz"}

CERT, KEY = pair("x.tsubame.localhost")

SAMPLES: dict[str, Sample] = {
    "POST /apps/<appname>/deploy": Sample("/apps/x/deploy", data=_ARCHIVE),
    "POST /apps/<appname>/repository/clone": Sample("/apps/x/repository/clone", data=_ARCHIVE),
    "POST /apps/<appname>/build": Sample("/apps/x/build", data={**_ARCHIVE, "tag": "t1"}),
    "POST /apps/<app>/deploy/rollback": Sample("/apps/x/deploy/rollback", data={"image": "v1"}),
    "POST /apps/<app>/deploy/rebuild": Sample("/apps/x/deploy/rebuild", data={"origin": "rebuild"}),
    "PUT /apps/<app>/deploy/rollback/update": Sample(
        "/apps/x/deploy/rollback/update", data={"image": "v1", "disable": "false"}
    ),
    "DELETE /apps/<app>/versions/<version>": Sample("/apps/x/versions/1"),
    "PUT /apps/<app>/units": Sample("/apps/x/units", data={"units": "1"}),
    "DELETE /apps/<app>/units": Sample("/apps/x/units?units=1"),
    "POST /apps/<app>/sleep": Sample("/apps/x/sleep", data={"proxy": "http://sleeper/"}),
    "POST /apps/<app>/run": Sample("/apps/x/run", data={"command": "ls"}),
    "POST /apps/<app>/units/autoscale": Sample(
        "/apps/x/units/autoscale",
        json={"process": "web", "minUnits": 1, "maxUnits": 2, "averageCPU": "70%"},
    ),
    "GET /deploys/<deploy>": Sample(f"/deploys/{DEPLOY_ID}"),
    "POST /apps": Sample("/apps", data={"name": "new", "teamOwner": "blue"}),
    "POST /apps/<app>/env": Sample("/apps/x/env", json={"envs": [{"name": "A", "value": "1"}]}),
    "DELETE /apps/<app>/env": Sample("/apps/x/env?env=A"),
    "GET /apps/<app>/log": Sample("/apps/x/log?lines=1"),
    "GET /apps/<app>/log-instance": Sample("/apps/x/log-instance?lines=1"),
    "POST /apps/<app>/cname": Sample("/apps/x/cname", data={"cname": "www.x.com"}),
    "DELETE /apps/<app>/cname": Sample("/apps/x/cname?cname=old.x.com"),
    "PUT /apps/<app>/certificate": Sample(
        "/apps/x/certificate",
        data={"cname": "x.tsubame.localhost", "certificate": CERT, "key": KEY},  # fmt: skip
    ),
    "DELETE /apps/<app>/certificate": Sample("/apps/x/certificate?cname=x.tsubame.localhost"),
    "PUT /apps/<app>": Sample("/apps/x", data={"description": "new"}),
    "POST /apps/<app>/routers": Sample("/apps/x/routers", data={"name": "other"}),
    "POST /app/<app>/routers": Sample("/app/x/routers", data={"name": "other"}),
    "POST /apps/<app>/routable": Sample("/apps/x/routable", data={"version": "1"}),
    "POST /app/<app>/routable": Sample("/app/x/routable", data={"version": "1"}),
    "PUT /apps/<app>/routers/<router>": Sample("/apps/x/routers/tsubame", data={"opts.a": "b"}),
    "PUT /app/<app>/routers/<router>": Sample("/app/x/routers/tsubame", data={"opts.a": "b"}),
    "DELETE /apps/<app>/routers/<router>": Sample("/apps/x/routers/tsubame"),
    "DELETE /app/<app>/routers/<router>": Sample("/app/x/routers/tsubame"),
    "POST /swap": Sample("/swap", data={"app1": "x", "app2": "y", "force": "true"}),
    "POST /apps/<app>/units/register": Sample("/apps/x/units/register", data={"hostname": "u1"}),
    "POST /apps/<app>/units/<unit>": Sample("/apps/x/units/u1", data={"status": "started"}),
    "PUT /apps/<app>/quota": Sample("/apps/x/quota", data={"limit": "3"}),
    "PUT /apps/<app>/teams/<team>": Sample("/apps/x/teams/green"),
    "DELETE /apps/<app>/teams/<team>": Sample("/apps/x/teams/red"),
}


def make_app() -> Flask:
    deps = fake_deps(config_from(SETTINGS))
    deps.auth.teams = ["blue", "red", "green"]  # type: ignore[attr-defined]
    deps.provisioner.routers = ["tsubame", "other"]  # type: ignore[attr-defined]
    # The unit the unit agent's samples name.
    deps.provisioner.units_by_app["x"] = [{"ID": "u1", "Status": "started"}]  # type: ignore[attr-defined]
    app = App(
        "x",
        pool="default",
        team_owner="blue",
        teams=["blue", "red"],
        owner="admin@example.com",
        platform="python",
        routers=[AppRouter("tsubame")],
        cnames=["old.x.com"],
    )
    deps.stores.apps.add(app)
    deps.stores.cnames.claim("old.x.com", "x")
    deps.stores.apps.add(
        App(
            "y",
            pool="default",
            team_owner="blue",
            teams=["blue"],
            platform="python",
            routers=[AppRouter("tsubame")],
        )  # fmt: skip
    )
    when = deps.clock()
    deps.stores.versions.allocate("x")
    deps.stores.versions.add(
        AppVersion(
            "x",
            1,
            when,
            when,
            kind="upload",
            deploy_image="tsubame/app-x:v1",
            build_image="tsubame/app-x:v1",
            deploy_successful=True,
            build_successful=True,
        )  # fmt: skip
    )
    deps.stores.deploys.add(
        DeployRecord(DEPLOY_ID, "x", when, "upload", version=1, image="tsubame/app-x:v1")
    )
    return create_app(SETTINGS, deps)


def walk() -> RouteWalk:
    return RouteWalk(make_app, samples=SAMPLES, public=PUBLIC)
