"""Pure rules of the docker provisioner: a Dockerfile's base images, the log configs."""

from __future__ import annotations

import pytest

from services.provisioner.domain import errors, logconfig
from services.provisioner.domain.dockerfile import base_images
from services.provisioner.domain.infra import LogConfig


def test_base_images_are_the_from_lines_without_stages_or_scratch() -> None:
    text = (
        "# syntax comment\n"
        "ARG X=1\n"
        "from --platform=linux/amd64 tsubame/python:latest AS build\n"
        "RUN echo hi \\\n"
        "  FROM not-an-instruction\n"
        "FROM build\n"
        "FROM scratch\n"
        "FROM \\\n"
        "    tsuru/go:v3 as other\n"
        "FROM tsubame/python:latest\n"
    )
    assert base_images(text) == ["tsubame/python:latest", "tsuru/go:v3"]
    assert base_images("RUN true\n") == []


def test_log_configs_the_engine_reads_back_only() -> None:
    logconfig.check(LogConfig("json-file", {"max-size": "10m", "max-file": "3"}))
    logconfig.check(LogConfig("journald", {"tag": "x"}))
    logconfig.check(LogConfig("bs"))
    with pytest.raises(errors.LogDriverRequired):
        logconfig.check(LogConfig(""))
    with pytest.raises(errors.BsLogOpts):
        logconfig.check(LogConfig("bs", {"a": "b"}))
    for driver in ("syslog", "fluentd", "gelf", "none", "awslogs"):
        with pytest.raises(errors.UnreadableLogDriver):
            logconfig.check(LogConfig(driver))
    with pytest.raises(errors.UnknownLogOpt):
        logconfig.check(LogConfig("local", {"tag": "x"}))


def test_effective_log_config_merges_the_pool_over_the_base() -> None:
    base = LogConfig("json-file", {"max-size": "1m"})
    stored = {"": base, "p1": LogConfig("json-file", {}), "p2": LogConfig("local", {}),
              "p3": LogConfig("bs"), "p4": LogConfig("journald", {"tag": "t"})}  # fmt: skip
    assert logconfig.effective(stored, "p1") == base
    assert logconfig.effective(stored, "p2") == LogConfig("local", {})
    assert logconfig.effective(stored, "p3") == LogConfig()
    assert logconfig.effective(stored, "p4") == LogConfig("journald", {"tag": "t"})
    assert logconfig.effective(stored, "other") == base
    assert logconfig.effective({}, "p1") == LogConfig()
