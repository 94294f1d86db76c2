"""The auth context's command-line entry points against a real database."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from services.auth.__main__ import main

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[4]


def env_for(mongo_url: str, amqp_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        "TSUBAME_IDENTITY_SECRET": "process-test-secret-0123456789",
        "TSUBAME_DATA_DIR": str(tmp_path),
        "TSUBAME_NAMESPACE": f"ptest_{secrets.token_hex(4)}",
        "TSUBAME_MONGO_URL": mongo_url,
        "TSUBAME_AMQP_URL": amqp_url,
        "TSUBAME_HASH_COST": "4",
    }


def test_create_root_user(mongo_url, amqp_url, mongo_client, tmp_path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    env = env_for(mongo_url, amqp_url, tmp_path)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    db = mongo_client[f"{env['TSUBAME_NAMESPACE']}_auth"]
    try:
        assert main(["create-root-user", "ops@example.com", "--password", "ops-pass"]) == 0
        assert "Root user successfully created." in capsys.readouterr().out
        user = db.users.find_one({"_id": "ops@example.com"})
        assert user["roles"] == [{"name": "AllowAll", "value": ""}]
        assert db.roles.find_one({"_id": "AllowAll"})["schemes"] == ["*"]
        assert main(["create-root-user", "ops@example.com"]) == 0
        assert "Root user successfully updated." in capsys.readouterr().out
        assert main(["create-root-user", "bad-email", "--password", "x"]) == 1
        assert "invalid email" in capsys.readouterr().err
    finally:
        mongo_client.drop_database(db.name)


def test_worker_runs_and_stops_on_sigterm(mongo_url, amqp_url, tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = {**os.environ, **env_for(mongo_url, amqp_url, tmp_path)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "services.auth.worker"],
        cwd=REPO,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # The worker logs once it runs its (empty) set of loops.
        assert proc.stderr is not None
        for line in proc.stderr:
            if "worker running" in line:
                break
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
