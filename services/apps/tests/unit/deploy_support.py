"""A small world for the deploy and unit tests: app ``shop`` (team ``blue``, pool
``default``, platform python) on fakes, and helpers to read what was recorded."""

from __future__ import annotations

import gzip
import io
import tarfile
from dataclasses import dataclass
from typing import Any

from flask import Flask

from services.apps.domain.models import App, AppRouter
from services.apps.domain.versions import AppVersion
from services.apps.operations.deps import Deps
from services.apps.tests.fakes import FakeProvisioner, fake_deps
from services.apps.tests.unit.conftest import build
from shared.events import EventRecord
from shared.testing.events import FakeRecorder


def tarball(files: dict[str, str] | None = None) -> bytes:
    # The same bytes every call: gzip's header carries a time unless it is given one.
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0) as packed:
        with tarfile.open(fileobj=packed, mode="w") as tar:
            for name, text in (files or {"Procfile": "web: python3 app.py\n"}).items():
                data = text.encode()
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


@dataclass
class World:
    deps: Deps
    app: Flask

    @property
    def provisioner(self) -> FakeProvisioner:
        prov = self.deps.provisioner
        assert isinstance(prov, FakeProvisioner)
        return prov

    @property
    def recorder(self) -> FakeRecorder:
        rec = self.deps.recorder
        assert isinstance(rec, FakeRecorder)
        return rec

    def events(self, kind: str) -> list[EventRecord]:
        return [r for r in self.recorder.records if r.kind.name == kind]

    def add_version(self, version: int, **kw: Any) -> AppVersion:
        while self.deps.stores.versions.allocate("shop") < version:
            pass
        when = self.deps.clock()
        fields: dict[str, Any] = {
            "kind": "upload",
            "deploy_image": f"tsubame/app-shop:v{version}",
            "build_image": f"tsubame/app-shop:v{version}",
            "deploy_successful": True,
            "build_successful": True,
        }
        fields.update(kw)
        found = AppVersion("shop", version, when, when, **fields)
        self.deps.stores.versions.add(found)
        return found


def world(**app_fields: Any) -> World:
    deps = fake_deps()
    fields: dict[str, Any] = {
        "pool": "default",
        "team_owner": "blue",
        "teams": ["blue"],
        "owner": "alice@example.com",
        "platform": "python",
        "provisioner": "process",
        "routers": [AppRouter("tsubame")],
    }
    fields.update(app_fields)
    deps.stores.apps.add(App("shop", **fields))
    return World(deps, build(deps))


def lines(resp: Any) -> list[dict[str, Any]]:
    import json

    return [json.loads(x) for x in resp.get_data(as_text=True).splitlines() if x.strip()]
