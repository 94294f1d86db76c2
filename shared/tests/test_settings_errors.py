from __future__ import annotations

import pytest

from shared import errors
from shared.settings import ConfigError, Settings, default_namespace


def test_from_env_defaults_and_urls(tmp_path):
    env = {
        "TSUBAME_IDENTITY_SECRET": "x" * 20,
        "TSUBAME_DATA_DIR": str(tmp_path),
        "TSUBAME_AUTH_URLS": "http://a:1/, http://b:2",
        "TSUBAME_FOO": "bar",
    }
    s = Settings.from_env(env)
    assert s.service_urls["auth"] == ("http://a:1", "http://b:2")
    assert s.service_urls["apps"] == ()
    assert s.namespace == default_namespace(str(tmp_path))
    assert s.db_name("auth") == f"{s.namespace}_auth"
    assert s.get("TSUBAME_FOO") == "bar"
    assert s.gateway_port == 8080


def test_namespace_differs_per_data_dir(tmp_path):
    assert default_namespace(str(tmp_path / "a")) != default_namespace(str(tmp_path / "b"))


def test_secret_is_required():
    with pytest.raises(ConfigError):
        Settings.from_env({})


def test_error_statuses():
    assert errors.Invalid().status == 400
    assert errors.Unauthorized().message == "You must provide a valid Authorization header"
    assert errors.Forbidden().message == "You don't have permission to do this action"
    assert errors.NotFound("team not found").message == "team not found"
    assert str(errors.Conflict("x")) == "x"
    assert errors.PreconditionFailed().status == 412
    assert errors.NotBuilt().status == 501


def test_event_lock_expiry_is_shared_by_every_context(tmp_path):
    env = {"TSUBAME_IDENTITY_SECRET": "x" * 20, "TSUBAME_EVENTS_LOCK_EXPIRY": "42"}
    assert Settings.from_env(env).event_lock_expiry == 42.0
    assert Settings.from_env({"TSUBAME_IDENTITY_SECRET": "x" * 20}).event_lock_expiry == 300.0
