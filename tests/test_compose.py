"""docker-compose.yml and deploy/Dockerfile describe the whole stack.

The structure is always checked; `docker compose config -q` also runs when the
docker CLI has the compose plugin (no engine needed for that).
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

from scripts.stack import CONTEXTS, REPO_ROOT

COMPOSE = REPO_ROOT / "docker-compose.yml"
DOCKERFILE = REPO_ROOT / "deploy" / "Dockerfile"


def load() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(data, dict)
    return data


def services() -> dict[str, dict[str, Any]]:
    found = load()["services"]
    assert isinstance(found, dict)
    return found


def module_exists(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def test_names_database_broker_every_service_worker_and_gateway() -> None:
    names = set(services())
    expected = {"mongo", "rabbitmq", "gateway"}
    expected |= set(CONTEXTS) | {f"{ctx}-worker" for ctx in CONTEXTS} | {"web"}
    assert expected <= names, expected - names
    assert services()["mongo"]["image"] == "mongo:7"
    assert services()["rabbitmq"]["image"] == "rabbitmq:3-management"


def test_every_tsubame_process_is_built_from_the_one_dockerfile() -> None:
    for name, spec in services().items():
        if name in ("mongo", "rabbitmq"):
            continue
        build = spec["build"]
        assert build["context"] == "."
        assert build["dockerfile"] == "deploy/Dockerfile"
        assert (REPO_ROOT / build["context"] / build["dockerfile"]).is_file()


def test_commands_follow_the_process_contract() -> None:
    all_services = services()
    for ctx in CONTEXTS:
        command = all_services[ctx]["command"]
        assert command[:3] == ["gunicorn", "-c", "deploy/gunicorn.py"]
        assert f"services.{ctx}.wsgi:app" in command
        assert "0.0.0.0:8000" in command
        assert all_services[f"{ctx}-worker"]["command"] == [
            "python",
            "-m",
            f"services.{ctx}.worker",
        ]
        assert module_exists(f"services.{ctx}.wsgi"), ctx
        assert module_exists(f"services.{ctx}.worker"), ctx
    web = all_services["web"]["command"]
    assert web[:3] == ["gunicorn", "-c", "deploy/gunicorn.py"] and "services.web.wsgi:app" in web
    assert module_exists("services.web.wsgi")
    gateway = all_services["gateway"]
    assert "gateway.wsgi:app" in gateway["command"]
    assert module_exists("gateway.wsgi")
    assert any(str(p).endswith(":8080") for p in gateway["ports"])


def test_configuration_is_environment_only() -> None:
    all_services = services()
    for name in [*CONTEXTS, *(f"{c}-worker" for c in CONTEXTS), "gateway"]:
        env = all_services[name]["environment"]
        assert env["TSUBAME_MONGO_URL"] == "mongodb://mongo:27017/"
        assert "@rabbitmq:5672/" in env["TSUBAME_AMQP_URL"]
        # Required: compose refuses to start without it (no default secret baked in).
        assert re.fullmatch(r"\$\{TSUBAME_IDENTITY_SECRET:\?.+\}", env["TSUBAME_IDENTITY_SECRET"])
        for ctx in (*CONTEXTS, "web"):
            # Service URLs by compose DNS, on the port the service binds.
            assert env[f"TSUBAME_{ctx.upper()}_URLS"] == f"http://{ctx}:8000"
        assert env["TSUBAME_BIND"] == "0.0.0.0"


def test_dockerfile_is_slim_and_runs_as_non_root() -> None:
    text = DOCKERFILE.read_text()
    assert re.search(r"^FROM python:3\.11-slim\s*$", text, re.M)
    assert re.search(r"pip install (--\S+ )*\.(\s|$)", text)
    users = re.findall(r"^USER (\S+)", text, re.M)
    assert users and users[-1] not in ("root", "0")
    assert "deploy/gunicorn.py" in text


def test_docker_compose_config_is_valid_when_compose_is_available() -> None:
    docker = shutil.which("docker")
    if docker is None:
        return  # no docker CLI on this machine: the structural tests above still ran
    version = subprocess.run([docker, "compose", "version"], capture_output=True, timeout=30)
    if version.returncode != 0:
        return  # no compose plugin: likewise
    env = {**os.environ, "TSUBAME_IDENTITY_SECRET": "x" * 32}
    result = subprocess.run(
        [docker, "compose", "-f", str(COMPOSE), "config", "-q"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    # And without the secret compose must refuse.
    env.pop("TSUBAME_IDENTITY_SECRET")
    result = subprocess.run(
        [docker, "compose", "-f", str(COMPOSE), "config", "-q"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "TSUBAME_IDENTITY_SECRET" in result.stderr


def test_example_env_names_the_required_secret() -> None:
    example = (REPO_ROOT / "deploy" / "tsubame.env.example").read_text()
    assert re.search(r"^TSUBAME_IDENTITY_SECRET=", example, re.M)
    assert Path(REPO_ROOT / "deploy" / "gunicorn.py").is_file()


def test_every_service_and_worker_can_be_scaled() -> None:
    """``docker compose up --scale apps=3``: a replica must not clash with another."""
    all_services = services()
    for name in [*CONTEXTS, *(f"{ctx}-worker" for ctx in CONTEXTS)]:
        spec = all_services[name]
        assert "container_name" not in spec, name  # names are unique per container
        assert "hostname" not in spec, name
        assert "ports" not in spec, name  # a second replica could not bind a host port
        assert spec.get("deploy", {}).get("replicas", 1) >= 1


def test_the_gateway_reaches_every_replica_by_service_name() -> None:
    gateway = services()["gateway"]
    env = gateway["environment"]
    for ctx in CONTEXTS:
        # A name, not an address: the gateway resolves it to every replica, again and again.
        assert env[f"TSUBAME_{ctx.upper()}_URLS"] == f"http://{ctx}:8000"
    assert 0 < float(env["TSUBAME_GATEWAY_RESOLVE_SECONDS"].split(":-")[1].rstrip("}")) <= 5
    assert "TSUBAME_INSTANCES_FILE" not in env  # the launcher's registry is for local stacks
    # The one published entry point.
    assert "container_name" not in gateway
    assert [str(p) for p in gateway["ports"]] == ["${TSUBAME_PORT:-8080}:8080"]
