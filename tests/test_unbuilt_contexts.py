"""The contexts not built yet (the provisioner, in part) run for real and are
honest: every route they own answers 501 with a plain-text reason, never a fake success.
When a context gets built, drop it from CONTEXTS and give it its own tests (the
architecture tests already walk its routes); a context built in part (the provisioner)
stays here while some of its routes still answer 501."""

from __future__ import annotations

import importlib

import pytest

from shared.settings import Settings

CONTEXTS = ("provisioner",)
SETTINGS = Settings(
    data_dir="/tmp/x", namespace="t", mongo_url="", amqp_url="", identity_secret=b"s" * 32
)


def make(context: str):
    deps = importlib.import_module(f"services.{context}.tests.fakes").fake_deps()
    return importlib.import_module(f"services.{context}.bootstrap").create_app(SETTINGS, deps)


@pytest.mark.parametrize("context", CONTEXTS)
def test_unbuilt_routes_answer_501_and_health_answers(context: str) -> None:
    client = make(context).test_client()
    r = client.get("/some/route")
    assert r.status_code == 501
    assert r.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert "has not built GET /some/route" in r.text
    assert client.get("/internal/health").status_code == 200
