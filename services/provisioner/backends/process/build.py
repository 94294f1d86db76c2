"""build(): archive -> a release directory ready to start units from.

Steps, each streamed to the caller: unpack safely (as root, files owned by the app
user), read Procfile and tsuru.yaml (before any app code runs), prepare for the
platform (python: a virtualenv, with requirements.txt installed by pip; static: a
default web process), run the build hooks as the app user, then write
``release.json``: a release directory without it is an interrupted build and is
never started.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import threading
from dataclasses import asdict
from pathlib import Path
from typing import Any

from services.provisioner.backends.archive import unpack
from services.provisioner.backends.base import (
    BackendError,
    BuildError,
    BuildRequest,
    Canceled,
    Healthcheck,
    Hooks,
    Output,
    Release,
)
from services.provisioner.backends.manifest import read_manifest
from services.provisioner.backends.process import cgroups, commands, unitfs
from services.provisioner.backends.process.config import ProcessConfig
from services.provisioner.backends.process.layout import Layout, Owner

RELEASE_JSON = "release.json"
# tsuru's static platform serves the app's files; ours does it with the stdlib.
STATIC_WEB = "python3 -m http.server $PORT"
BASE_PATH = "/usr/local/bin:/usr/bin:/bin"


def go_quote(text: str) -> str:
    """Go's %q of a string, as tsuru prints commands (close enough for printable text)."""
    return json.dumps(text, ensure_ascii=False)


def is_python(platform: str) -> bool:
    return platform.lower().startswith("python")


def is_static(platform: str) -> bool:
    return platform.lower().startswith("static")


def unit_path(release_dir: str, extra: str = "") -> str:
    """PATH of a unit: the release's virtualenv first (when there is one)."""
    venv = os.path.join(release_dir, "venv", "bin")
    parts = [venv] if os.path.isdir(venv) else []
    parts.append(extra or BASE_PATH)
    return ":".join(parts)


def release_to_json(release: Release) -> dict[str, Any]:
    return {
        "app": release.app,
        "version": release.version,
        "image": release.image,
        "processes": dict(release.processes),
        "hooks": asdict(release.hooks),
        "healthcheck": asdict(release.healthcheck),
        "custom_data": dict(release.custom_data),
    }


def release_from_json(data: dict[str, Any]) -> Release:
    hooks = data.get("hooks") or {}
    return Release(
        app=data["app"],
        version=int(data["version"]),
        image=data["image"],
        processes=dict(data.get("processes") or {}),
        hooks=Hooks(**{k: tuple(v) for k, v in hooks.items()}),
        healthcheck=Healthcheck(**(data.get("healthcheck") or {})),
        custom_data=dict(data.get("custom_data") or {}),
    )


class Builder:
    def __init__(self, config: ProcessConfig, layout: Layout) -> None:
        self.config = config
        self.layout = layout

    def build(self, req: BuildRequest, output: Output, cancel: threading.Event | None) -> Release:
        release_dir = self.layout.release_dir(req.app, req.version)
        owner = self.layout.ensure_app(req.app)
        discard(release_dir)
        try:
            return self._build(req, release_dir, owner, output, cancel)
        except BaseException as exc:
            discard(release_dir)
            if isinstance(exc, BackendError | KeyboardInterrupt | SystemExit):
                raise
            if isinstance(exc, OSError):
                raise BuildError(f"build failed: {exc.strerror or exc}") from exc
            raise

    def _build(
        self,
        req: BuildRequest,
        release_dir: Path,
        owner: Owner | None,
        output: Output,
        cancel: threading.Event | None,
    ) -> Release:
        self.layout.make_dir(release_dir, owner, 0o750 if owner else 0o700, group_only=True)
        app_dir = release_dir / "app"
        self.layout.make_dir(app_dir, owner, 0o750, group_only=False)
        output(" ---> Unpacking the archive\n")
        stats = unpack(req.archive_path, app_dir, self.config.archive, owner=owner, cancel=cancel)
        output(f" ---> {stats.files} entries, {stats.bytes} bytes\n")
        manifest = read_manifest(app_dir)
        processes = dict(manifest.processes)
        if not processes and is_static(req.platform):
            processes["web"] = STATIC_WEB
        if not processes:
            raise BuildError(
                "Procfile not found: the app must declare its processes in a Procfile "
                '(e.g. "web: python3 app.py")'
            )
        for name, command in processes.items():
            output(f"  ---> Process {go_quote(name)} found with commands: [{go_quote(command)}]\n")
        scratch = release_dir / "build"
        self.layout.make_dir(scratch, owner, 0o700, group_only=False)
        try:
            if is_python(req.platform):
                self._python(req, release_dir, owner, output, cancel)
            if manifest.hooks.build:
                command = " && ".join(manifest.hooks.build)
                output("---- Running build hooks ----\n")
                output(f" ---> Running {go_quote(command)}\n")
                code = self._run(
                    req, release_dir, owner, command, output, cancel, self.config.build_timeout
                )
                if code != 0:
                    raise BuildError(f"build hook failed: {go_quote(command)} exited with {code}")
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        release = Release(
            app=req.app,
            version=req.version,
            image=str(release_dir),
            processes=processes,
            hooks=manifest.hooks,
            healthcheck=manifest.healthcheck,
            custom_data=manifest.custom_data,
        )
        unitfs.write_json(str(release_dir / RELEASE_JSON), release_to_json(release), 0o640)
        return release

    def _python(
        self,
        req: BuildRequest,
        release_dir: Path,
        owner: Owner | None,
        output: Output,
        cancel: threading.Event | None,
    ) -> None:
        venv = str(release_dir / "venv")
        python = self.config.python
        requirements = release_dir / "app" / "requirements.txt"
        with_pip = requirements.is_file() and not requirements.is_symlink()
        output(" ---> Creating the virtualenv\n")
        # The release directory is root's: the app user gets its own venv directory.
        self.layout.make_dir(release_dir / "venv", owner, 0o750, group_only=False)
        argv = [python, "-m", "venv"] + ([] if with_pip else ["--without-pip"]) + [venv]
        code = self._run(req, release_dir, owner, argv, output, cancel, 300.0)
        if code != 0:
            raise BuildError(f"could not create the virtualenv with {python} (exit {code})")
        if not with_pip:
            return
        output(" ---> Installing requirements.txt\n")
        pip = [
            os.path.join(venv, "bin", "python"),
            "-m",
            "pip",
            "install",
            "--no-input",
            "--disable-pip-version-check",
            "-r",
            "requirements.txt",
        ]
        code = self._run(req, release_dir, owner, pip, output, cancel, self.config.pip_timeout)
        if code != 0:
            raise BuildError(f"pip install -r requirements.txt failed (exit {code})")

    def _run(
        self,
        req: BuildRequest,
        release_dir: Path,
        owner: Owner | None,
        command: str | list[str],
        output: Output,
        cancel: threading.Event | None,
        timeout: float,
    ) -> int:
        """A build step as the app user in the app directory, with the app's env."""
        scratch = str(release_dir / "build")
        env = dict(req.env)
        env.update(
            PATH=unit_path(str(release_dir), env.get("PATH", "")),
            HOME=scratch,
            TMPDIR=scratch if owner is None else "/tmp",
            PIP_CACHE_DIR=str(self.layout.app_dir(req.app) / "cache"),
        )
        argv = ["/bin/sh", "-c", command] if isinstance(command, str) else command
        cfg = {
            "argv": argv,
            "env": env,
            "cwd": str(release_dir / "app"),
            "uid": owner[0] if owner else None,
            "gid": owner[1] if owner else None,
            "root": self.config.root,
            "tmp": scratch,
            "namespace": owner is not None,
        }
        what = "the build step" if isinstance(command, list) else "the build hooks"
        # Its own cgroup (root): a process cap against fork bombs, and nothing a hook
        # daemonized outlives the step.
        group = f"build-{os.getpid()}-{secrets.token_hex(4)}"
        scope = self.layout.scope
        if owner is not None:
            cfg["cgroups"] = cgroups.procs_files(cgroups.create(scope, group, {}))
        try:
            return commands.run(
                cfg,
                output,
                cancel=cancel,
                timeout=timeout,
                what=what,
                kill_rest=lambda: cgroups.kill(scope, group) if owner is not None else None,
            )
        except Canceled:
            raise
        except BackendError as exc:
            raise BuildError(str(exc)) from exc
        finally:
            if owner is not None:
                cgroups.remove(scope, group)


def discard(path: Path) -> None:
    """Remove a release directory (moved aside first, so a half-deleted one never looks
    like a release)."""
    if not os.path.lexists(path):
        return
    trash = path.with_name(f".trash-{path.name}-{secrets.token_hex(4)}")
    os.rename(path, trash)
    shutil.rmtree(trash, ignore_errors=True)
