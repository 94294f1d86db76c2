"""build(): archive -> an app image per version, on the node the provisioner names.

1. Unpack the archive safely into a scratch directory here (``archive.unpack``) and read
   the Procfile and tsuru.yaml from it, before any app code runs.
2. Build ``FROM <platform image>`` with a generated Dockerfile that only copies the app
   to /home/application/current, owned by the unprivileged app user.
3. When the platform needs preparation (python with a requirements.txt: a virtualenv)
   or tsuru.yaml has build hooks: run them as the app user in a container of that
   image, the app's env given to each step only (never to the container's config), then
   commit the container as the release image. Secrets never enter image layers' config.

Every image is labelled with the namespace, app and version, so remove_app finds them.
"""

from __future__ import annotations

import io
import json
import re
import tarfile
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from services.provisioner.backends.archive import unpack
from services.provisioner.backends.base import (
    BackendError,
    BuildError,
    BuildRequest,
    Canceled,
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


def dockerfile(base: str) -> str:
    return (
        f"FROM {base}\n"
        f"COPY --chown={APP_UID}:{APP_UID} app/ {APP_DIR}/\n"
        f"WORKDIR {APP_DIR}\n"
        f"USER {APP_UID}:{APP_UID}\n"
    )


def _context(app_dir: Path, base: str, into: Path) -> Path:
    """The build context: the Dockerfile and the unpacked app under ``app/``."""
    path = into / "context.tar"

    def owned(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.uid = info.gid = APP_UID
        info.uname = info.gname = "app"
        return info

    with tarfile.open(path, "w") as tar:
        data = dockerfile(base).encode()
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
        # Links are stored as links: the engine, not this host, resolves them.
        tar.add(app_dir, arcname="app", recursive=True, filter=owned)
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
            context = _context(app_dir, base, Path(scratch))
            final = self.config.image_name(req.app, req.version)
            tags = ct.labels(
                self.config.namespace,
                "release",
                **{ct.APP: req.app, ct.VERSION: str(req.version)},
            )
            output(f" ---> Building the image on {node}\n")
            image = self._docker_build(node, context, tags, output, cancel)
        if steps:
            self._run_steps(node, image, final, req, steps, venv, output, cancel)
        else:
            self._tag(node, image, final)
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

    def _docker_build(
        self,
        node: str,
        context: Path,
        tags: dict[str, str],
        output: Output,
        cancel: threading.Event | None,
    ) -> str:
        client = self.nodes.client(node, self.config.build_timeout)
        image_id = ""
        with open(context, "rb") as body:
            try:
                answer = client.api.build(
                    fileobj=body,
                    custom_context=True,
                    rm=True,
                    forcerm=True,
                    pull=False,
                    labels=tags,
                    decode=True,
                )
                for item in _items(answer):
                    if cancel is not None and cancel.is_set():
                        raise Canceled("canceled")
                    if "error" in item:
                        raise BuildError(f"image build failed: {str(item['error']).strip()}")
                    if "stream" in item:
                        output(str(item["stream"]))
                    aux = item.get("aux")
                    if isinstance(aux, dict) and aux.get("ID"):
                        image_id = str(aux["ID"])
            except API_ERRORS as exc:
                raise BuildError(f"image build failed: {reason(exc)}") from exc
        if not image_id:
            raise BuildError("image build failed: the engine named no image")
        return image_id

    def _tag(self, node: str, image: str, final: str) -> None:
        repository, tag = final.rsplit(":", 1)
        try:
            self.nodes.client(node).api.tag(image, repository, tag, force=True)
        except API_ERRORS as exc:
            raise BuildError(f"could not tag the image: {reason(exc)}") from exc

    def _run_steps(
        self,
        node: str,
        image: str,
        final: str,
        req: BuildRequest,
        steps: list[tuple[str, str]],
        venv: bool,
        output: Output,
        cancel: threading.Event | None,
    ) -> None:
        client = self.nodes.client(node, self.config.build_timeout)
        env = dict(req.env)
        env.update(HOME=HOME, PATH=f"{VENV}/bin:{env.get('PATH') or BASE_PATH}")
        try:
            builder = client.containers.create(
                image,
                _IDLE,
                labels=ct.labels(
                    self.config.namespace,
                    "build",
                    **{ct.APP: req.app, ct.VERSION: str(req.version)},
                ),
                **ct.security_args(self.config.pids_limit),
            )
            builder.start()
        except API_ERRORS as exc:
            raise BuildError(f"could not start the build container: {reason(exc)}") from exc
        try:
            for banner, command in steps:
                output(banner)
                try:
                    code = run_in(
                        client,
                        builder.id,
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
            builder.stop(timeout=5)
            repository, tag = final.rsplit(":", 1)
            changes = [f"WORKDIR {APP_DIR}", "CMD []", f"USER {APP_UID}:{APP_UID}"]
            if venv:
                changes.append(f"ENV PATH={VENV}/bin:{BASE_PATH}")
            builder.commit(repository=repository, tag=tag, changes=changes)
        except API_ERRORS as exc:
            raise BuildError(f"could not save the built image: {reason(exc)}") from exc
        finally:
            try:
                builder.remove(force=True)
            except API_ERRORS:
                pass
            try:
                client.api.remove_image(image)  # the pre-hooks image, now a parent layer
            except API_ERRORS:
                pass


_PIP = (
    f'python3 -m venv "{VENV}" && "{VENV}/bin/python" -m pip install --no-input '
    "--disable-pip-version-check -r requirements.txt"
)


def _items(answer: Any) -> Iterator[dict[str, Any]]:
    for item in answer:
        if isinstance(item, dict):
            yield item
