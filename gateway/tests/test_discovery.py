"""Instance discovery (gateway/discovery.py) and instance sets (Upstream.update), no sockets."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gateway.discovery import Discovery, expand
from gateway.upstream import Upstream
from shared import instances as registry


def upstream(*urls: str) -> Upstream:
    return Upstream("auth", urls, timeout=1.0, connect_timeout=1.0)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Resolver:
    """A DNS that answers what the test says, like compose's as containers come and go."""

    def __init__(self) -> None:
        self.answers: dict[str, list[str]] = {}
        self.calls = 0

    def __call__(self, host: str, port: int) -> list[str]:
        self.calls += 1
        if host not in self.answers:
            raise OSError("Name or service not known")
        return self.answers[host]


def test_expand_keeps_addresses_and_resolves_names() -> None:
    dns = Resolver()
    dns.answers["auth"] = ["10.0.0.2", "10.0.0.3", "fd00::4"]
    assert expand("http://10.1.2.3:8000", dns) == ["http://10.1.2.3:8000"]
    assert expand("http://[::1]:8000", dns) == ["http://[::1]:8000"]
    assert dns.calls == 0
    assert expand("http://auth:8000", dns) == [
        "http://10.0.0.2:8000",
        "http://10.0.0.3:8000",
        "http://[fd00::4]:8000",
    ]
    assert expand("http://nowhere:8000", dns) is None


def test_names_are_resolved_again_as_replicas_come_and_go() -> None:
    dns, clock = Resolver(), Clock()
    auth = upstream("http://auth:8000")
    found = Discovery({"auth": [auth]}, {"auth": ["http://auth:8000"]}, resolver=dns, clock=clock)
    dns.answers["auth"] = ["10.0.0.2"]
    found.refresh()
    assert auth.urls == ("http://10.0.0.2:8000",)
    dns.answers["auth"] = ["10.0.0.3", "10.0.0.2"]  # docker compose up --scale auth=2
    found.refresh()
    assert auth.urls == ("http://10.0.0.2:8000",)  # not due yet
    clock.now += 2.0
    found.refresh()
    assert set(auth.urls) == {"http://10.0.0.2:8000", "http://10.0.0.3:8000"}
    kept = {i.url: i for i in auth.instances}
    dns.answers["auth"] = ["10.0.0.2", "10.0.0.3"]  # same set, other order: no change
    clock.now += 2.0
    found.refresh()
    assert {i.url: i for i in auth.instances} == kept
    del dns.answers["auth"]  # DNS trouble: keep what we had
    clock.now += 2.0
    found.refresh()
    assert set(auth.urls) == {"http://10.0.0.2:8000", "http://10.0.0.3:8000"}
    dns.answers["auth"] = ["10.0.0.3"]  # scaled down
    clock.now += 2.0
    found.refresh()
    assert auth.urls == ("http://10.0.0.3:8000",)
    assert kept["http://10.0.0.2:8000"].retired


def test_a_name_never_resolved_stays_as_it_is() -> None:
    auth = upstream("http://auth:8000")
    Discovery({"auth": [auth]}, {"auth": ["http://auth:8000"]}, resolver=Resolver()).refresh()
    assert auth.urls == ("http://auth:8000",)


def test_the_registry_wins_is_applied_to_every_upstream_and_acknowledged(
    tmp_path: Path,
) -> None:
    path = tmp_path / "instances.json"
    auth, docs = upstream("http://127.0.0.1:1"), upstream("http://127.0.0.1:1")
    clock = Clock()
    found = Discovery(
        {"auth": [auth, docs]},
        {"auth": ["http://127.0.0.1:1"]},
        registry_path=path,
        clock=clock,
    )
    found.refresh()  # no file yet: the URLs
    assert auth.urls == ("http://127.0.0.1:1",)
    records = (
        registry.InstanceRecord("auth", "http://127.0.0.1:1", registry.DRAINING),
        registry.InstanceRecord("auth-2", "http://127.0.0.1:2"),
        registry.InstanceRecord("auth-3", "http://127.0.0.1:3", registry.DOWN),
    )
    registry.write(path, registry.Registry(7, {"auth": records}))
    found.refresh()
    for each in (auth, docs):
        assert [(s.url, s.state) for s in each.snapshot()] == [
            ("http://127.0.0.1:1", "draining"),
            ("http://127.0.0.1:2", "up"),
            ("http://127.0.0.1:3", "down"),
        ]
    assert registry.read_acks(path) == {os.getpid(): 7}
    assert found.generation == 7


def test_update_keeps_pools_and_retires_what_is_gone() -> None:
    auth = upstream("http://127.0.0.1:1", "http://127.0.0.1:2")
    first, second = auth.instances
    auth.update([("http://127.0.0.1:2", "up"), ("http://127.0.0.1:3", "up")])
    assert auth.instances[0] is second and first.retired
    auth.update([("http://127.0.0.1:2", "draining"), ("http://127.0.0.1:3", "up")])
    assert second.state == "draining" and not second.retired


@pytest.mark.parametrize("state", ["up", "down", "draining"])
def test_snapshot_reports_each_instance(state: str) -> None:
    auth = upstream()
    auth.update([("http://127.0.0.1:9", state)])
    [status] = auth.snapshot()
    assert (status.url, status.state, status.sent, status.failed, status.in_flight) == (
        "http://127.0.0.1:9",
        state,
        0,
        0,
        0,
    )
