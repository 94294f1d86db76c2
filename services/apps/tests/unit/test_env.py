"""The merged environment (apps.md §3, catalog.md §c.5)."""

from __future__ import annotations

import json

from services.apps.domain.env import env_json, merged_env, services_json, with_token
from services.apps.domain.models import App, EnvVar, ServiceEnv
from services.apps.domain.spec import app_spec


def test_services_json_is_gos_encoding() -> None:
    assert services_json([]) == "{}"
    envs = [
        ServiceEnv("DB_HOST", "10.0.0.1", "mysql", "db1"),
        ServiceEnv("REDIS_URL", "redis://<x>", "redis", "cache"),
        ServiceEnv("DB_PASSWORD", "s3cr3t", "mysql", "db1"),
        ServiceEnv("DB_HOST", "10.0.0.2", "mysql", "db2"),
    ]
    assert services_json(envs) == (
        '{"mysql":[{"instance_name":"db1","envs":{"DB_HOST":"10.0.0.1","DB_PASSWORD":"s3cr3t"}},'
        '{"instance_name":"db2","envs":{"DB_HOST":"10.0.0.2"}}],'
        '"redis":[{"instance_name":"cache","envs":{"REDIS_URL":"redis://\\u003cx\\u003e"}}]}'
    )


def test_service_vars_override_app_vars_and_aliases_follow() -> None:
    app = App(
        "shop",
        env={
            "A": EnvVar("A", "1"),
            "B": EnvVar("B", "", alias="A"),
            "C": EnvVar("C", "", alias="B"),
            "D": EnvVar("D", "", alias="MISSING"),
            "DB": EnvVar("DB", "local"),
            "X": EnvVar("X", "", alias="Y"),
            "Y": EnvVar("Y", "", alias="X"),
        },
        service_envs=[ServiceEnv("DB", "remote", "mysql", "db1")],
    )
    env = merged_env(app)
    assert env["B"].value == "1" and env["C"].value == "1"
    assert env["D"].value == ""  # an alias of nothing keeps its own value
    assert env["DB"] == EnvVar("DB", "remote", public=False)
    assert json.loads(env["TSURU_SERVICES"].value) == {
        "mysql": [{"instance_name": "db1", "envs": {"DB": "remote"}}]
    }
    assert env["TSURU_SERVICES"].public is False


def test_token_filled_only_where_stored_and_json_shape() -> None:
    envs = {"TSURU_APP_TOKEN": EnvVar("TSURU_APP_TOKEN", "", public=False)}
    assert with_token(envs, "tok")["TSURU_APP_TOKEN"].value == "tok"
    assert "TSURU_APP_TOKEN" not in with_token({}, "tok")
    assert env_json(EnvVar("A", "1", managed_by="tf")) == {
        "name": "A", "value": "1", "alias": "", "public": True, "managedBy": "tf",
    }  # fmt: skip
    assert "managedBy" not in env_json(EnvVar("A", "1"))


def test_app_spec_carries_the_complete_env_and_effective_plan() -> None:
    app = App("shop", pool="p", team_owner="blue", teams=["blue"], platform="python",
              env={"TSURU_APP_TOKEN": EnvVar("TSURU_APP_TOKEN", "", public=False),
                   "K": EnvVar("K", "V")})  # fmt: skip
    app.plan.memory, app.plan.override_memory = 100, 200
    spec = app_spec(app, "tok")
    assert spec["env"] == {"K": "V", "TSURU_APP_TOKEN": "tok", "TSURU_SERVICES": "{}"}
    assert spec["plan"]["memory"] == 200
    assert set(spec) == {"name", "pool", "team_owner", "teams", "platform", "platform_version",
                         "plan", "env", "routers", "cnames"}  # fmt: skip
