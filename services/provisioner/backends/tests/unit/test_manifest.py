"""Procfile and tsuru.yaml parsing, as tsuru 1.11 reads them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from services.provisioner.backends.base import BuildError, Healthcheck, Hooks
from services.provisioner.backends.manifest import (
    parse_procfile,
    parse_tsuru_yaml,
    read_manifest,
)


def test_procfile_lines() -> None:
    text = (
        "web: python3 app.py --port $PORT\r\n"
        "# comment: not a process\n"
        "worker:celery -A tasks   \n"
        "bad name: x\n"
        "empty:\n"
        "  indented: no\n"
        "web-2_b: ./run\n"
        "worker: rq worker\n"
    )
    assert parse_procfile(text) == {
        "web": "python3 app.py --port $PORT",
        "worker": "rq worker",  # the last one wins, at the first one's place
        "web-2_b": "./run",
    }
    assert list(parse_procfile(text)) == ["web", "worker", "web-2_b"]
    assert parse_procfile("") == {}


def test_tsuru_yaml_hooks_and_healthcheck() -> None:
    hooks, hc, data = parse_tsuru_yaml(
        """
hooks:
  build:
    - make assets
    - echo done
  restart:
    before: [migrate]
    after: "warm-cache"
healthcheck:
  path: /health
  method: post
  status: 204
  allowed_failures: 3
  use_in_router: true
  timeout_seconds: 5
  headers: {Host: example.com}
  deploy_timeout_seconds: 90
extra: kept
"""
    )
    assert hooks == Hooks(
        build=("make assets", "echo done"),
        restart_before=("migrate",),
        restart_after=("warm-cache",),
    )
    assert hc.path == "/health" and hc.method == "POST" and hc.status == 204
    assert hc.allowed_failures == 3 and hc.use_in_router is True and hc.timeout_seconds == 5.0
    assert hc.headers == {"Host": "example.com"} and hc.deploy_timeout_seconds == 90
    assert data["extra"] == "kept"


def test_healthcheck_status_defaults_like_tsuru() -> None:
    assert parse_tsuru_yaml("healthcheck: {path: /}")[1].status == 200
    # A match alone accepts any status (tsuru 1.11 leaves the status at 0).
    assert parse_tsuru_yaml("healthcheck: {path: /, match: ok}")[1].status == 0
    assert parse_tsuru_yaml("")[1] == Healthcheck()


@pytest.mark.parametrize(
    "text, message",
    [
        ("hooks: [a]", "hooks must be a mapping"),
        ("hooks: {build: {a: b}}", "hooks.build must be a list"),
        ("hooks: {build: [1, 2]}", "hooks.build must be a list"),
        ("healthcheck: {status: ok}", "healthcheck.status must be an integer"),
        ("healthcheck: {status: true}", "healthcheck.status must be an integer"),
        ("healthcheck: {match: '('}", "healthcheck.match"),
        ("healthcheck: {use_in_router: 'yes'}", "use_in_router must be a boolean"),
        ("healthcheck: {path: [1]}", "healthcheck.path must be a string"),
        ("- a list", "must be a mapping"),
        ("a: [b", "invalid tsuru.yaml"),
        ("a: !!python/object:os.system x", "invalid tsuru.yaml"),
    ],
)
def test_invalid_tsuru_yaml(text: str, message: str) -> None:
    with pytest.raises(BuildError, match=message):
        parse_tsuru_yaml(text)


def test_alias_bombs_and_deep_nesting_are_refused() -> None:
    laughs = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 9):
        laughs.append(f"{chr(97 + i)}: &{chr(97 + i)} [{','.join(['*' + chr(96 + i)] * 9)}]")
    with pytest.raises(BuildError, match="too large"):
        parse_tsuru_yaml("\n".join(laughs))
    with pytest.raises(BuildError, match="nested too deeply|invalid tsuru.yaml"):
        parse_tsuru_yaml("a: " + "[" * 5000 + "]" * 5000)


def test_dates_and_binary_become_json_safe() -> None:
    _, _, data = parse_tsuru_yaml("when: 2024-01-02\nblob: !!binary aGk=\n1: one")
    assert data == {"when": "2024-01-02", "blob": "aGk=", "1": "one"}


def test_read_manifest_takes_the_first_yaml_name(tmp_path: Path) -> None:
    (tmp_path / "Procfile").write_text("web: ./serve\n")
    (tmp_path / "app.yaml").write_text("hooks: {build: [from-app-yaml]}")
    (tmp_path / "tsuru.yaml").write_text("hooks: {build: [from-tsuru-yaml]}")
    got = read_manifest(tmp_path)
    assert got.processes == {"web": "./serve"}
    assert got.hooks.build == ("from-tsuru-yaml",) and got.tsuru_yaml == "tsuru.yaml"
    (tmp_path / "tsuru.yml").write_text("hooks: {build: [from-tsuru-yml]}")
    assert read_manifest(tmp_path).hooks.build == ("from-tsuru-yml",)


def test_read_manifest_without_files(tmp_path: Path) -> None:
    got = read_manifest(tmp_path)
    assert got.processes == {} and got.hooks == Hooks() and got.custom_data == {}


def test_manifest_links_must_stay_inside(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("web: leaked\n")
    app = tmp_path / "app"
    app.mkdir()
    os.symlink(secret, app / "Procfile")
    with pytest.raises(BuildError, match="regular file of the app"):
        read_manifest(app)
    os.unlink(app / "Procfile")
    (app / "real").write_text("web: inner\n")
    os.symlink("real", app / "Procfile")
    assert read_manifest(app).processes == {"web": "inner"}
    (app / "tsuru.yaml").mkdir()
    with pytest.raises(BuildError, match="regular file"):
        read_manifest(app)


def test_manifest_size_is_bounded(tmp_path: Path) -> None:
    (tmp_path / "Procfile").write_text("web: x\n" + "#" * (300 << 10))
    with pytest.raises(BuildError, match="too large"):
        read_manifest(tmp_path)
