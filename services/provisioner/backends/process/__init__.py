"""The ``process`` backend: app units as supervised local processes (the default).

``ProcessBackend`` (backend.py) implements the Protocol of ``backends/base.py``;
``stop_all(root)`` (units.py, also ``python -m services.provisioner.backends.process
stop-all --root DIR``) stops every unit of a root when its stack stops.

Imports are lazy: the unit runner and the sandbox live in this package and must start
light.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (the runner's weight)
if TYPE_CHECKING:
    from typing import Any

    from services.provisioner.backends.process.backend import ProcessBackend
    from services.provisioner.backends.process.config import ProcessConfig
    from services.provisioner.backends.process.units import running_processes, stop_all

__all__ = ["ProcessBackend", "ProcessConfig", "running_processes", "stop_all"]


def __getattr__(name: str) -> Any:
    if name == "ProcessBackend":
        from services.provisioner.backends.process.backend import ProcessBackend

        return ProcessBackend
    if name == "ProcessConfig":
        from services.provisioner.backends.process.config import ProcessConfig

        return ProcessConfig
    if name in ("stop_all", "running_processes"):
        from services.provisioner.backends.process import units

        return getattr(units, name)
    raise AttributeError(name)
