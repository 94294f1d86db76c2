"""POST /apps/{appname}/deploy and /build on fakes (apps.md §6.2, §6.7)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest

from services.apps.messaging.deploys import on_deploy_finished
from services.apps.operations.deps import Reply
from services.apps.tests.unit.conftest import admin, app_token, call, user
from services.apps.tests.unit.deploy_support import World, tarball, world
from shared.events import EventSpec, Owner, Target
from shared.events.model import Allowed
from shared.identity import Grant, Identity
from shared.testing.identity import pending

DEPLOYER = user("alice@example.com", ("app.deploy", "team", "blue"))


def upload(w: World, identity: Identity | None = DEPLOYER, **form: Any) -> Any:
    data: dict[str, Any] = {"file": (io.BytesIO(tarball()), "archive.tar.gz")}
    data.update(form)
    return call(w.app, "POST", "/apps/shop/deploy", identity, data=data,
                content_type="multipart/form-data")  # fmt: skip


def test_upload_deploy_streams_text_ending_in_ok_and_records_everything() -> None:
    w = world()
    fetched: list[bytes] = []
    original = w.provisioner.command

    def command(
        name: str, app: dict[str, Any], args: dict[str, Any], *, event: str = ""
    ) -> Iterator[Reply]:
        # The provisioner fetches the archive while the deploy runs.
        internal = Identity(kind="internal", name="provisioner")
        path = args["archive_url"]
        got = w.app.test_client().get(
            path, headers=pending(internal, w.app.config["TSUBAME_SETTINGS"].identity_secret)
        )
        fetched.append(got.data if got.status_code == 200 else b"")
        yield from original(name, app, args, event=event)

    w.provisioner.command = command  # type: ignore[method-assign]
    resp = upload(w, message="first", origin="app-deploy")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "text"
    body = resp.get_data(as_text=True)
    assert body == "deploy shop\n\nOK\n"
    event_id = resp.headers["X-Tsuru-Eventid"]
    sent = w.provisioner.sent[-1]
    assert (sent.command, sent.event) == ("deploy", event_id)
    assert sent.args["kind"] == "upload" and sent.args["version"] == 1
    assert sent.args["archive_url"] == f"/internal/archives/{event_id}"
    assert sent.app["name"] == "shop"
    assert fetched == [tarball()]
    assert w.deps.archives.path(event_id) is None  # removed at the final reply
    record = w.deps.stores.deploys.get(event_id)
    assert record is not None and not record.running and record.error == ""
    assert record.image == "tsubame/app-shop:v1" and record.origin == "app-deploy"
    assert (record.message, record.user, record.kind) == ("first", "alice@example.com", "upload")
    version = w.deps.stores.versions.get("shop", 1)
    assert version is not None and version.deploy_successful
    assert version.processes == {"web": "python3 app.py"}
    app = w.deps.stores.apps.get("shop")
    assert app is not None and app.deploys == 1 and not app.update_platform
    event = w.events("app.deploy")[-1]
    assert event.unique_id == event_id and event.cancelable
    assert event.owner == Owner("user", "alice@example.com")
    assert event.start_custom_data["kind"] == "upload"
    assert event.start_custom_data["filesize"] == len(tarball())
    assert event.allowed_cancel == Allowed("app.update.events", tuple(app.contexts()))


def test_archive_url_and_image_deploys() -> None:
    w = world(provisioner="docker")
    resp = call(w.app, "POST", "/apps/shop/deploy", admin(),
                data={"archive-url": "https://example.com/a.tar.gz"})  # fmt: skip
    assert resp.status_code == 200 and resp.text.endswith("\nOK\n")
    sent = w.provisioner.sent[-1]
    assert (sent.args["kind"], sent.args["archive_url"]) == (
        "archive-url",
        "https://example.com/a.tar.gz",
    )
    resp = call(w.app, "POST", "/apps/shop/deploy", admin(), data={"image": "nginx:1"})
    # Read to its end, as a client does: the deploy is counted as the stream closes.
    assert resp.status_code == 200 and resp.text.endswith("\nOK\n")
    sent = w.provisioner.sent[-1]
    assert (sent.args["kind"], sent.args["image"], sent.args["version"]) == ("image", "nginx:1", 2)
    app = w.deps.stores.apps.get("shop")
    assert app is not None and app.deploys == 2 and app.update_platform  # image deploys set it


def test_image_deploy_on_the_process_provisioner_is_a_clear_400() -> None:
    w = world()
    resp = call(w.app, "POST", "/apps/shop/deploy", admin(), data={"image": "nginx:1"})
    assert (resp.status_code, resp.text) == (400, "the process provisioner cannot deploy images\n")
    assert "X-Tsuru-Eventid" in resp.headers
    assert w.events("app.deploy")[-1].error == "the process provisioner cannot deploy images"
    assert w.provisioner.sent == []


@pytest.mark.parametrize(
    "data,content_type,status,text",
    [
        ({}, None, 400, "you must specify either the archive-url, a image url or upload a file."),
        ({"other": "x"}, "multipart/form-data", 400, "http: no such file"),
        ({"archive-url": "http://x/a", "build": "maybe"}, None, 400,
         'strconv.ParseBool: parsing "maybe": invalid syntax'),
        ({"archive-url": "http://x/a", "origin": "ftp"}, None, 400, "Invalid deployment origin"),
    ],
)  # fmt: skip
def test_bad_input_is_refused_before_anything(
    data: dict[str, str], content_type: str | None, status: int, text: str
) -> None:
    w = world()
    kw: dict[str, Any] = {"data": data}
    if content_type:
        kw["content_type"] = content_type
    resp = call(w.app, "POST", "/apps/nope/deploy", user("nobody@example.com"), **kw)
    assert (resp.status_code, resp.text) == (status, text + "\n")
    assert w.recorder.records == []


def test_who_may_deploy() -> None:
    w = world()
    url = {"archive-url": "http://x/a.tar.gz"}
    r = call(w.app, "POST", "/apps/nope/deploy", admin(), data=url)
    assert (r.status_code, r.text) == (404, "App not found\n")
    r = call(w.app, "POST", "/apps/shop/deploy", app_token("other"), data=url)
    assert (r.status_code, r.text) == (401, "invalid app token\n")
    r = call(w.app, "POST", "/apps/shop/deploy", app_token("shop"), data=url)
    assert (r.status_code, r.text) == (
        403, "User does not have permission to do this action in this app\n",
    )  # fmt: skip
    # The internal token deploys any app, no permission needed; "user" names the actor.
    r = call(w.app, "POST", "/apps/shop/deploy", app_token("tsr"), data={**url, "user": "git@x"})
    assert r.status_code == 200
    assert w.events("app.deploy")[-1].owner == Owner("user", "git@x")
    # Permission per kind: upload only.
    uploader = user("u@example.com", ("app.deploy.upload", "app", "shop"))
    r = call(w.app, "POST", "/apps/shop/deploy", uploader, data=url)
    assert r.status_code == 403
    assert upload(w, uploader).status_code == 200


def test_commit_and_user_are_for_app_tokens_only() -> None:
    w = world()
    form = {"archive-url": "http://x/a.tar.gz", "commit": "abc", "user": "mallory@x"}
    call(w.app, "POST", "/apps/shop/deploy", DEPLOYER, data=form)
    record = w.deps.stores.deploys.get(w.events("app.deploy")[-1].unique_id)
    assert record is not None and (record.commit, record.user, record.origin) == (
        "", "alice@example.com", "",
    )  # fmt: skip
    deployer = Identity(kind="app", name="tsr", token_kind="app", grants=())
    call(w.app, "POST", "/apps/shop/deploy", deployer, data=form)
    record = w.deps.stores.deploys.get(w.events("app.deploy")[-1].unique_id)
    assert record is not None and (record.commit, record.user, record.origin) == (
        "abc", "mallory@x", "git",
    )  # fmt: skip


def test_failure_after_output_is_a_text_line_and_counts_nothing() -> None:
    w = world()
    w.provisioner.command_error = "\n---- ERROR during deploy: ----\nbuild failed\n"
    resp = upload(w)
    assert resp.status_code == 200
    assert resp.text == "deploy shop\n\n---- ERROR during deploy: ----\nbuild failed\n\n"
    record = w.deps.stores.deploys.get(resp.headers["X-Tsuru-Eventid"])
    assert record is not None and "build failed" in record.error and not record.running
    version = w.deps.stores.versions.get("shop", 1)
    assert version is not None and not version.deploy_successful
    app = w.deps.stores.apps.get("shop")
    assert app is not None and app.deploys == 0
    assert w.deps.archives.path(resp.headers["X-Tsuru-Eventid"]) is None


def test_refusal_before_output_keeps_its_status() -> None:
    w = world()

    def refuse(
        name: str, app: dict[str, Any], args: dict[str, Any], *, event: str = ""
    ) -> Iterator[Reply]:
        yield {"final": True, "error": "app is not ready", "status": 400}

    w.provisioner.command = refuse  # type: ignore[method-assign]
    resp = upload(w)
    assert (resp.status_code, resp.text) == (400, "app is not ready\n")
    assert "X-Tsuru-Eventid" in resp.headers


def test_one_deploy_at_a_time() -> None:
    w = world()
    holder = EventSpec(Target("app", "shop"), "app.deploy", Owner("user", "bob@example.com"),
                       Allowed("app.read.events"))  # fmt: skip
    running = w.recorder.start(holder)
    resp = upload(w)
    assert resp.status_code == 409
    assert resp.text.startswith(
        'event locked: app(shop) running "app.deploy" start by user bob@example.com'
    )
    assert w.provisioner.sent == []
    assert list(w.deps.archives.root.glob("[0-9a-f]*")) == []  # the upload was dropped
    running.done()
    assert upload(w).status_code == 200


def test_app_without_platform_and_version_flags() -> None:
    w = world(platform="")
    r = call(w.app, "POST", "/apps/shop/deploy", admin(), data={"archive-url": "http://x/a"})
    assert (r.status_code, r.text) == (
        400, "can't deploy app without platform, if it's not an image or rollback\n",
    )  # fmt: skip
    w = world()
    r = call(w.app, "POST", "/apps/shop/deploy", admin(),
             data={"archive-url": "http://x/a", "new-version": "true", "override-versions": "1"})  # fmt: skip
    assert (r.status_code, r.text) == (
        400, "conflicting deploy flags, new-version and override-old-versions\n",
    )  # fmt: skip
    w.provisioner.units_by_app["shop"] = [{"ID": "a", "Version": 1}, {"ID": "b", "Version": 2}]
    r = call(w.app, "POST", "/apps/shop/deploy", admin(), data={"archive-url": "http://x/a"})
    assert r.status_code == 400 and r.text.startswith("multiple versions currently deployed")
    r = call(w.app, "POST", "/apps/shop/deploy", admin(),
             data={"archive-url": "http://x/a", "new-version": "true"})  # fmt: skip
    assert r.status_code == 200 and w.provisioner.sent[-1].args["new_version"] is True


def test_build_ends_with_the_image_and_deploys_nothing() -> None:
    w = world()
    r = call(w.app, "POST", "/apps/shop/build", admin(), data={"archive-url": "http://x/a"})
    assert (r.status_code, r.text) == (400, "you must specify the image tag.\n")
    r = call(w.app, "POST", "/apps/shop/build", admin(),
             data={"archive-url": "http://x/a", "tag": "mytag"})  # fmt: skip
    assert r.status_code == 200 and r.headers["Content-Type"] == "text"
    assert r.text == "deploy shop\ntsubame/app-shop:mytag\nOK\n"
    sent = w.provisioner.sent[-1]
    assert sent.args["build_only"] is True and sent.args["tag"] == "mytag"
    version = w.deps.stores.versions.get("shop", 1)
    assert version is not None and version.build_successful and not version.deploy_successful
    assert version.build_tag == "mytag" and version.build_image == "tsubame/app-shop:mytag"
    assert w.deps.stores.deploys.get(r.headers["X-Tsuru-Eventid"]) is None
    app = w.deps.stores.apps.get("shop")
    assert app is not None and app.deploys == 0
    assert w.events("app.build")[-1].unique_id == r.headers["X-Tsuru-Eventid"]
    r = call(w.app, "POST", "/apps/shop/build", user("x@example.com", ("app.deploy", "global", "")),
             data={"archive-url": "http://x/a", "tag": "t"})  # fmt: skip
    assert r.status_code == 403


def test_diff_is_gone_for_any_token() -> None:
    w = world()
    r = call(w.app, "POST", "/apps/whatever/diff", user("nobody@example.com"))
    assert (r.status_code, r.text) == (410, "diff deploy is deprecated, this call does nothing\n")
    assert call(w.app, "POST", "/apps/whatever/diff", None).status_code == 401


def test_the_outcome_message_records_a_deploy_whose_relay_died() -> None:
    w = world()
    # As if the web process died after sending: the record runs, the archive is kept.
    from services.apps.domain.deploys import DeployRecord

    when = w.deps.clock()
    w.deps.stores.versions.allocate("shop")
    from services.apps.domain.versions import AppVersion

    w.deps.stores.versions.add(AppVersion("shop", 1, when, when, event="e" * 24, kind="upload"))
    event_id = "a" * 24
    w.deps.stores.deploys.add(DeployRecord(event_id, "shop", when, "upload", version=1))
    (w.deps.archives.root).mkdir(parents=True, exist_ok=True)
    (w.deps.archives.root / event_id).write_bytes(b"x")
    handle = on_deploy_finished(w.deps)
    body = {"app": "shop", "event": event_id, "version": 1, "kind": "upload", "build_only": False,
            "error": "", "result": {"image": "tsubame/app-shop:v1", "processes": {"web": "x"}}}  # fmt: skip
    handle("provisioner.deploy.finished", body)
    handle("provisioner.deploy.finished", body)  # redelivered: counted once
    app = w.deps.stores.apps.get("shop")
    assert app is not None and app.deploys == 1
    record = w.deps.stores.deploys.get(event_id)
    assert record is not None and record.image == "tsubame/app-shop:v1" and not record.running
    assert w.deps.archives.path(event_id) is None
    version = w.deps.stores.versions.get("shop", 1)
    assert version is not None and version.deploy_successful


def test_grant_context_for_team_token() -> None:
    # A team token holding app.deploy in the app's pool may deploy.
    w = world()
    token = Identity(kind="token", name="t1", token_kind="team",
                     grants=(Grant("app.deploy", "pool", "default"),))  # fmt: skip
    r = call(w.app, "POST", "/apps/shop/deploy", token, data={"archive-url": "http://x/a"})
    assert r.status_code == 200
