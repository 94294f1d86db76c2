"""Shells opened from the provisioner's web process: the process backend's (a backend
instance that forwards no logs, the worker's instances do, made on first use) and the
docker backend's (an exec with a terminal on the unit's engine)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from services.provisioner.backends.base import ExecRequest, Mount
from services.provisioner.backends.dispatch import LOCAL_NODE_SCHEME
from services.provisioner.operations.runtime.shells import Terminal


class ProcessShells:
    def __init__(
        self,
        env: Mapping[str, str],
        mounts: Callable[[str], tuple[Mount, ...]] = lambda app: (),
    ) -> None:
        self._env = dict(env)
        self._mounts = mounts
        self._backend: Any = None
        self._lock = threading.Lock()

    def _made(self) -> Any:
        from services.provisioner.backends.process import ProcessBackend, ProcessConfig

        with self._lock:
            if self._backend is None:
                config = ProcessConfig.from_env(self._env)
                self._backend = ProcessBackend(config, lambda line: None, forward_logs=False)
            return self._backend

    @contextmanager
    def open(self, req: ExecRequest, *, width: int, height: int, term: str) -> Iterator[Terminal]:
        from dataclasses import replace

        from services.provisioner.backends.process.shell import open_shell

        with open_shell(
            self._made(),
            replace(req, mounts=self._mounts(req.app)),
            width=width,
            height=height,
            term=term,
        ) as shell:
            yield shell


class DockerShells:
    """Shells of docker units, on the unit's engine (its node in the request)."""

    def __init__(
        self,
        env: Mapping[str, str],
        namespace: str,
        mounts: Callable[[str], tuple[Mount, ...]] = lambda app: (),
    ) -> None:
        from services.provisioner.backends.docker.config import DockerConfig

        self._config = DockerConfig.from_env(env, namespace=namespace)
        self._mounts = mounts

    @contextmanager
    def open(self, req: ExecRequest, *, width: int, height: int, term: str) -> Iterator[Terminal]:
        from dataclasses import replace

        from services.provisioner.backends.docker.shell import open_shell

        if not req.unit:  # an isolated shell's container gets the app's volumes
            req = replace(req, mounts=self._mounts(req.app))
        with open_shell(
            req.node, req, self._config, width=width, height=height, term=term
        ) as shell:
            yield shell


class Shells:
    """The opener of the backend that runs the request's node: a docker engine's
    address goes to ``docker``, no node (or the process node) to ``process``."""

    def __init__(self, process: Any, docker: Any = None) -> None:
        self.process, self.docker = process, docker

    def open(
        self, req: ExecRequest, *, width: int, height: int, term: str
    ) -> AbstractContextManager[Terminal]:
        local = not req.node or req.node.startswith(LOCAL_NODE_SCHEME)
        opener = self.process if local or self.docker is None else self.docker
        result: AbstractContextManager[Terminal] = opener.open(
            req, width=width, height=height, term=term
        )
        return result
