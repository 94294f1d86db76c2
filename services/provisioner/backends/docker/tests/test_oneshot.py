"""``run_once`` on a real engine: a container run to its end without a followed stream
(backends/docker/oneshot.py)."""

from __future__ import annotations

import docker
import pytest

from services.provisioner.backends.base import BackendError
from services.provisioner.backends.docker.oneshot import run_once

BUSYBOX = "tsubame/busybox:latest"
LABEL = {"test.oneshot": "1"}


def _left(client: docker.DockerClient) -> list[str]:
    return [c["Id"] for c in client.api.containers(all=True, filters={"label": "test.oneshot"})]


def test_exit_code_and_both_outputs_and_nothing_left(podman_engines: list[str]) -> None:
    client = docker.DockerClient(base_url=podman_engines[0], timeout=60)
    try:
        code, out = run_once(client, BUSYBOX, ["sh", "-c", "echo out; echo err >&2; exit 3"],
                             timeout=60, labels=LABEL)  # fmt: skip
        assert code == 3
        assert sorted(out.decode().split()) == ["err", "out"]
        for _ in range(20):  # each run ends whole: its output is all there every time
            assert run_once(client, BUSYBOX, ["echo", "x"], timeout=60, labels=LABEL) == (0, b"x\n")
        assert _left(client) == []
    finally:
        client.close()


def test_a_run_past_its_timeout_or_of_no_image_is_refused_and_removed(
    podman_engines: list[str],
) -> None:
    client = docker.DockerClient(base_url=podman_engines[0], timeout=60)
    try:
        with pytest.raises(BackendError):
            run_once(client, BUSYBOX, ["sleep", "60"], timeout=1, labels=LABEL)
        assert _left(client) == []
        with pytest.raises(BackendError, match="could not create a container of nosuch/x:1"):
            run_once(client, "nosuch/x:1", ["true"], timeout=10, labels=LABEL)
    finally:
        client.close()
