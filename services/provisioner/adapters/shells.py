"""Shells of the process backend, opened from the provisioner's web process: a backend
instance that forwards no logs (the worker's instances do) made on first use."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from services.provisioner.backends.base import ExecRequest, Mount
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
