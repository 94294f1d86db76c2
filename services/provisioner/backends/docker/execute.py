"""Commands run inside containers: build steps, ``tsuru app-run`` beside a unit.

The Docker API cannot kill an exec'd process, so each command runs under a small shell
that writes its pid (the leader of the exec's own process group) to a file first; a
timeout or a cancel kills that whole group through a second exec. The environment is
given to the exec only, never to the container: it stays out of committed images.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import docker
import docker.errors

from services.provisioner.backends.base import (
    BackendError,
    Canceled,
    ExecRequest,
    Output,
    UnitSpec,
)
from services.provisioner.backends.docker import containers as ct
from services.provisioner.backends.docker.config import APP_DIR, APP_UID, HOME, DockerConfig
from services.provisioner.backends.docker.errors import API_ERRORS, reason
from services.provisioner.backends.docker.volumes import ensure_volumes, mount_args

_WRAPPER = 'echo $$ > "$1"; exec /bin/sh -c "$0"'
# dash wants "kill -KILL -PGID", busybox also takes "kill -s KILL -- -PGID".
_KILLER = 'p="$(cat "$0")" && { kill -KILL -"$p" 2>/dev/null || kill -s KILL -- -"$p"; }'


class Timeout(BackendError):
    pass


def run_in(
    client: docker.DockerClient,
    container: str,
    command: str,
    *,
    env: Mapping[str, str],
    workdir: str,
    user: str,
    output: Output,
    cancel: threading.Event | None,
    timeout: float,
) -> int:
    """Run ``command`` with ``/bin/sh -c`` in the running ``container``; its exit status.

    Raises Canceled (cancel set) or Timeout, after killing the command's process group.
    """
    pid_file = f"/tmp/.tsubame-exec-{secrets.token_hex(6)}.pid"
    try:
        created = client.api.exec_create(
            container,
            ["/bin/sh", "-c", _WRAPPER, command, pid_file],
            environment=dict(env),
            workdir=workdir,
            user=user,
        )
        stream = client.api.exec_start(created["Id"], stream=True)
    except API_ERRORS as exc:
        raise BackendError(f"could not run the command: {reason(exc)}") from exc
    deadline = time.monotonic() + timeout
    done = threading.Event()
    stopped: list[BaseException] = []

    def watchdog() -> None:
        while not done.wait(0.2):
            if cancel is not None and cancel.is_set():
                stopped.append(Canceled("canceled"))
            elif time.monotonic() > deadline:
                stopped.append(Timeout(f"the command timed out after {timeout:g}s"))
            else:
                continue
            _kill(client, container, pid_file, user)
            return

    guard = threading.Thread(target=watchdog, name="exec-watchdog", daemon=True)
    guard.start()
    try:
        for chunk in _chunks(stream):
            output(chunk.decode("utf-8", "replace"))
    finally:
        done.set()
        guard.join(5)
    if stopped:
        raise stopped[0]
    try:
        code = client.api.exec_inspect(created["Id"]).get("ExitCode")
    except API_ERRORS as exc:
        raise BackendError(f"could not read the command's status: {reason(exc)}") from exc
    return int(code) if code is not None else -1


def _exec_env(req: ExecRequest) -> dict[str, str]:
    env = dict(req.env)
    env.setdefault("HOME", HOME)
    return env


def run_beside(
    client: docker.DockerClient,
    container: str,
    req: ExecRequest,
    output: Output,
    cancel: threading.Event | None,
) -> int:
    """``tsuru app-run`` in a unit's container, as the app user in the app directory."""
    try:
        return run_in(
            client,
            container,
            req.command,
            env=_exec_env(req),
            workdir=APP_DIR,
            user=f"{APP_UID}:{APP_UID}",
            output=output,
            cancel=cancel,
            timeout=req.timeout,
        )
    except Timeout as exc:
        raise BackendError(str(exc)) from exc


def run_isolated(
    client: docker.DockerClient,
    req: ExecRequest,
    config: DockerConfig,
    output: Output,
    cancel: threading.Event | None,
    *,
    local_node: bool,
) -> int:
    """``tsuru app-run --isolated``: a fresh container of the release (limits, volumes),
    removed afterwards whatever happens."""
    with isolated_container(client, req, config, local_node=local_node) as container:
        return run_beside(client, container, req, output, cancel)


@contextmanager
def isolated_container(
    client: docker.DockerClient, req: ExecRequest, config: DockerConfig, *, local_node: bool
) -> Iterator[str]:
    """A fresh running container of ``req``'s release (limits, volumes) that only
    waits, for commands and shells; its id. Removed afterwards whatever happens."""
    volumes = mount_args(req.mounts, local_node=local_node)
    ensure_volumes(client, _as_unit(req), config.namespace)
    try:
        container = client.containers.create(
            req.release.image,
            ["/bin/sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1; done"],
            working_dir=APP_DIR,
            labels=ct.labels(config.namespace, "exec", **{ct.APP: req.app}),
            volumes=volumes,
            **ct.security_args(config.pids_limit),
            **ct.limit_args(req.limits),
        )
    except API_ERRORS as exc:
        raise BackendError(f"could not create the command's container: {reason(exc)}") from exc
    try:
        try:
            container.start()
        except API_ERRORS as exc:
            raise BackendError(f"could not start the command's container: {reason(exc)}") from exc
        yield str(container.id)
    finally:
        try:
            container.remove(force=True)
        except API_ERRORS:
            pass  # the engine went away: its leftovers carry the exec label


def _as_unit(req: ExecRequest) -> UnitSpec:
    return UnitSpec(
        id="",
        app=req.app,
        process="",
        version=req.release.version,
        release=req.release,
        command="",
        env=req.env,
        limits=req.limits,
        mounts=req.mounts,
    )


def _chunks(stream: Any) -> Iterator[bytes]:
    try:
        yield from stream
    except OSError:
        return


def _kill(client: docker.DockerClient, container: str, pid_file: str, user: str) -> None:
    try:
        client.api.exec_start(
            client.api.exec_create(container, ["/bin/sh", "-c", _KILLER, pid_file], user=user)["Id"]
        )
    except API_ERRORS:
        pass  # the container itself may be gone: nothing left to kill
