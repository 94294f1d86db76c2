"""build(): archive -> an app image per version, on the node the provisioner names.

1. Unpack the archive safely into a scratch directory here (``archive.unpack``) and read
   the Procfile and tsuru.yaml from it, before any app code runs.
2. Create a container of the platform image (it only waits) and copy the app into it at
   /home/application/current, owned by the unprivileged app user (``put_archive``: no
   image build, whose start-up and one committed layer per instruction cost seconds).
3. When the platform needs preparation (python with a requirements.txt: a virtualenv)
   or tsuru.yaml has build hooks: start it and run them as the app user, the app's env
   given to each step only (never to the container's config).
4. Commit the container as the release image (working directory, user, labels); the
   container goes. Secrets never enter image layers' config.

Every image is labelled with the namespace, app and version, so remove_app finds them.
"""

from __future__ import annotations

import json
import re
import tarfile
import tempfile
import threading
from pathlib import Path
from typing import Any

from services.provisioner.backends.archive import unpack
from services.provisioner.backends.base import (
    BackendError,
    BuildError,
    BuildRequest,
    Output,
    Release,
)
from services.provisioner.backends.docker import containers as ct
from services.provisioner.backends.docker.config import APP_DIR, APP_UID, HOME, DockerConfig
from services.provisioner.backends.docker.errors import API_ERRORS, reason
from services.provisioner.backends.docker.execute import Timeout, run_in
from services.provisioner.backends.docker.nodes import NodeClients
from services.provisioner.backends.manifest import read_manifest
from services.provisioner.backends.process.unitenv import check_env

# tsuru's static platform serves the app's files; ours does it with the stdlib.
STATIC_WEB = "python3 -m http.server $PORT"
VENV = f"{HOME}/venv"
BASE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_IDLE = ["/bin/sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1; done"]


def go_quote(text: str) -> str:
    """Go's %q of a string, as tsuru prints commands (close enough for printable text)."""
    return json.dumps(text, ensure_ascii=False)


# An image reference as it may follow FROM (nothing that could start another line).
_IMAGE_REF = re.compile(r"^[a-z0-9][a-z0-9._/:@-]{0,254}$")


def platform_image(req: BuildRequest) -> str:
    # tsuru names a platform's image tsuru/<platform>:latest until one is built.
    image = req.platform_image or f"tsuru/{req.platform}:latest"
    if not _IMAGE_REF.match(image) or ".." in image or "//" in image:
        raise BuildError(f"invalid platform image {image!r}")
    return image


def _app_tar(app_dir: Path, into: Path) -> Path:
    """The app as a tar of ``current/...`` owned by the app user, for ``put_archive``
    into the app user's home."""
    path = into / "app.tar"

    def owned(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.uid = info.gid = APP_UID
        info.uname = info.gname = "app"
        return info

    with tarfile.open(path, "w") as tar:
        # Links are stored as links: the engine, not this host, resolves them.
        tar.add(app_dir, arcname=Path(APP_DIR).name, recursive=True, filter=owned)
    return path


class Builder:
    def __init__(self, config: DockerConfig, nodes: NodeClients) -> None:
        self.config = config
        self.nodes = nodes

    def build(self, req: BuildRequest, output: Output, cancel: threading.Event | None) -> Release:
        check_env(req.env)
        base = platform_image(req)
        node = self.nodes.pick(req.node)
        with tempfile.TemporaryDirectory(prefix="tsubame-build-") as scratch:
            app_dir = Path(scratch) / "app"
            app_dir.mkdir()
            output(" ---> Unpacking the archive\n")
            stats = unpack(req.archive_path, app_dir, self.config.archive, cancel=cancel)
            output(f" ---> {stats.files} entries, {stats.bytes} bytes\n")
            manifest = read_manifest(app_dir)
            processes = dict(manifest.processes)
            if not processes and req.platform.lower().startswith("static"):
                processes["web"] = STATIC_WEB
            if not processes:
                raise BuildError(
                    "Procfile not found: the app must declare its processes in a Procfile "
                    '(e.g. "web: python3 app.py")'
                )
            for name, command in processes.items():
                output(
                    f"  ---> Process {go_quote(name)} found with commands: [{go_quote(command)}]\n"
                )
            steps: list[tuple[str, str]] = []
            venv = req.platform.lower().startswith("python") and (
                (app_dir / "requirements.txt").is_file()
            )
            if venv:
                steps.append((" ---> Installing requirements.txt\n", _PIP))
            if manifest.hooks.build:
                command = " && ".join(manifest.hooks.build)
                steps.append(
                    (f"---- Running build hooks ----\n ---> Running {go_quote(command)}\n", command)
                )
            self._ensure_base(node, base)
            final = self.config.image_name(req.app, req.version)
            output(f" ---> Building the image on {node}\n")
            self._make(node, base, _app_tar(app_dir, Path(scratch)), final, req, steps, venv,
                       output, cancel)  # fmt: skip
        output(f" ---> Image {final} ready\n")
        return Release(
            app=req.app,
            version=req.version,
            image=final,
            processes=processes,
            hooks=manifest.hooks,
            healthcheck=manifest.healthcheck,
            custom_data=manifest.custom_data,
        )

    def _ensure_base(self, node: str, base: str) -> None:
        try:
            self.nodes.ensure_image(node, base, self.config.build_timeout)
        except BackendError:
            raise BuildError(f"platform image {base} is on no node: build the platform") from None

    def _make(
        self,
        node: str,
        base: str,
        app_tar: Path,
        final: str,
        req: BuildRequest,
        steps: list[tuple[str, str]],
        venv: bool,
        output: Output,
        cancel: threading.Event | None,
    ) -> None:
        client = self.nodes.client(node, self.config.build_timeout)
        app = {ct.APP: req.app, ct.VERSION: str(req.version)}
        try:
            builder = client.containers.create(
                base,
                _IDLE,
                working_dir=APP_DIR,
                labels=ct.labels(self.config.namespace, "build", **app),
                **ct.security_args(self.config.pids_limit),
            )
        except API_ERRORS as exc:
            raise BuildError(f"could not create the build container: {reason(exc)}") from exc
        try:
            output(f" ---> Copying the app to {APP_DIR}\n")
            with open(app_tar, "rb") as body:
                if not builder.put_archive(HOME, body):
                    raise BuildError(f"could not copy the app into the image: refused by {node}")
            if steps:
                builder.start()
                self._run_steps(client, builder.id, req, steps, output, cancel)
                builder.kill()
            repository, tag = final.rsplit(":", 1)
            changes = [f"WORKDIR {APP_DIR}", "CMD []", f"USER {APP_UID}:{APP_UID}"]
            if venv:
                changes.append(f"ENV PATH={VENV}/bin:{BASE_PATH}")
            # One LABEL per change: podman reads "LABEL a=1 b=2" as one label.
            labels = ct.labels(self.config.namespace, "release", **app)
            changes += [f"LABEL {key}={value}" for key, value in labels.items()]
            builder.commit(repository=repository, tag=tag, changes=changes)
        except API_ERRORS as exc:
            raise BuildError(f"could not save the built image: {reason(exc)}") from exc
        finally:
            try:
                builder.remove(force=True)
            except API_ERRORS:
                pass

    def _run_steps(
        self,
        client: Any,
        container: str,
        req: BuildRequest,
        steps: list[tuple[str, str]],
        output: Output,
        cancel: threading.Event | None,
    ) -> None:
        env = dict(req.env)
        env.update(HOME=HOME, PATH=f"{VENV}/bin:{env.get('PATH') or BASE_PATH}")
        for banner, command in steps:
            output(banner)
            try:
                code = run_in(
                    client,
                    container,
                    command,
                    env=env,
                    workdir=APP_DIR,
                    user=f"{APP_UID}:{APP_UID}",
                    output=output,
                    cancel=cancel,
                    timeout=self.config.build_timeout,
                )
            except Timeout as exc:
                raise BuildError(f"build step timed out: {exc}") from exc
            if code != 0:
                what = "pip install -r requirements.txt" if command is _PIP else command
                raise BuildError(f"build hook failed: {go_quote(what)} exited with {code}")


_PIP = (
    f'python3 -m venv "{VENV}" && "{VENV}/bin/python" -m pip install --no-input '
    "--disable-pip-version-check -r requirements.txt"
)
