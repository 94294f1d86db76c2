from __future__ import annotations

import stat
from pathlib import Path

from services.auth.bootstrap import bootstrap_admin, write_admin_file
from services.auth.domain.models import RoleInstance
from services.auth.operations import sessions
from services.auth.operations.admin import ALLOW_ALL, create_root_user, ensure_admin
from services.auth.settings import AuthSettings
from services.auth.tests.fakes import add_user
from shared.settings import Settings


def test_ensure_admin_creates_role_and_user_once(deps):
    password = ensure_admin(deps, "root@example.com")
    assert password and len(password) == 16
    role = deps.stores.roles.get(ALLOW_ALL)
    assert (role.context, role.schemes) == ("global", ["*"])
    assert deps.stores.users.get("root@example.com").roles == [RoleInstance(ALLOW_ALL, "")]
    assert sessions.login(deps, "root@example.com", password)
    assert ensure_admin(deps, "root@example.com") is None
    assert ensure_admin(deps, "other@example.com") is None
    assert deps.stores.users.get("other@example.com") is None


def test_ensure_admin_on_existing_user_grants_the_role(deps):
    add_user(deps, "root@example.com")
    assert ensure_admin(deps, "root@example.com", "given-pass") is None
    assert RoleInstance(ALLOW_ALL, "") in deps.stores.users.get("root@example.com").roles


def test_bootstrap_writes_admin_file(deps, env, tmp_path: Path):
    settings = AuthSettings.from_settings(
        Settings.from_env({**env, "TSUBAME_ADMIN_PASSWORD": "adminpass"})
    )
    bootstrap_admin(deps, settings)
    path = tmp_path / "admin.txt"
    assert path.read_text() == "email=admin@tsubame.local\npassword=adminpass\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.unlink()
    bootstrap_admin(deps, settings)
    assert not path.exists()


def test_write_admin_file_mode(tmp_path: Path):
    path = write_admin_file(str(tmp_path / "d"), "a@example.com", "pw")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_create_root_user(deps):
    assert create_root_user(deps, "root@example.com", "rootpass")
    assert not create_root_user(deps, "root@example.com", "ignored")
    assert deps.stores.users.get("root@example.com").roles == [RoleInstance(ALLOW_ALL, "")]
