"""Helpers of the process backend's own integration tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from services.provisioner.backends.process import ProcessBackend

ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (CI runs as root)")


def unit_dir(backend: ProcessBackend, unit: str) -> Path:
    return backend.layout.units / unit
