"""Rollback, rollback update, rebuild and version removal on fakes (apps.md §6.3-§6.5)."""

from __future__ import annotations

from services.apps.tests.unit.conftest import admin, call, user
from services.apps.tests.unit.deploy_support import lines, world


def test_rollback_serves_a_stored_version_again() -> None:
    w = world()
    w.add_version(1)
    w.add_version(2)
    r = call(w.app, "POST", "/apps/shop/deploy/rollback", admin(),
             data={"image": "v1", "origin": "rollback"})  # fmt: skip
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/x-json-stream"
    assert [x["Message"] for x in lines(r)] == ["deploy shop\n"]
    sent = w.provisioner.sent[-1]
    assert (sent.args["kind"], sent.args["version"], sent.args["from_version"]) == (
        "rollback",
        1,
        1,
    )
    event = w.events("app.deploy")[-1]
    assert event.start_custom_data["kind"] == "rollback" and event.start_custom_data["rollback"]
    record = w.deps.stores.deploys.get(event.unique_id)
    assert record is not None and (record.kind, record.version, record.origin) == (
        "rollback", 1, "rollback",
    )  # fmt: skip
    app = w.deps.stores.apps.get("shop")
    assert app is not None and app.deploys == 1 and app.update_platform
    # The version keeps its images (a rollback builds nothing).
    v1 = w.deps.stores.versions.get("shop", 1)
    assert v1 is not None and v1.deploy_image == "tsubame/app-shop:v1"


def test_rollback_refusals() -> None:
    w = world()
    r = call(w.app, "POST", "/apps/shop/deploy/rollback", admin(), data={"origin": "bad"})
    assert (r.status_code, r.text) == (400, "you cannot rollback without an image name\n")
    r = call(w.app, "POST", "/apps/shop/deploy/rollback", admin(),
             data={"image": "v1", "origin": "bad"})  # fmt: skip
    assert (r.status_code, r.text) == (400, "Invalid deployment origin\n")
    r = call(w.app, "POST", "/apps/shop/deploy/rollback", admin(), data={"image": "v1"})
    assert (r.status_code, r.text) == (400, "no versions available for app\n")
    w.add_version(1)
    w.add_version(2, disabled=True, disabled_reason="leaks memory")
    w.add_version(3, marked_to_removal=True)
    r = call(w.app, "POST", "/apps/shop/deploy/rollback", admin(), data={"image": "v9"})
    assert (r.status_code, r.text) == (400, "Invalid version: v9\n")
    r = call(w.app, "POST", "/apps/shop/deploy/rollback", admin(), data={"image": "2"})
    assert r.text == "the selected version is disabled for rollback: leaks memory\n"
    r = call(w.app, "POST", "/apps/shop/deploy/rollback", admin(),
             data={"image": "tsubame/app-shop:v3"})  # fmt: skip
    assert (r.status_code, r.text) == (400, "the selected version is marked to removal\n")
    r = call(w.app, "POST", "/apps/shop/deploy/rollback",
             user("b@example.com", ("app.deploy.upload", "global", "")), data={"image": "v1"})  # fmt: skip
    assert (r.status_code, r.text) == (403, "You don't have permission to do this action\n")
    r = call(w.app, "POST", "/apps/nope/deploy/rollback", admin(), data={"image": "v1"})
    assert (r.status_code, r.text) == (404, "App nope not found.\n")
    assert w.provisioner.sent == []


def test_rollback_update_toggles_a_version() -> None:
    w = world()
    w.add_version(1)
    url = "/apps/shop/deploy/rollback/update"
    cases = [
        ({"disable": "true"}, "you must specify an image"),
        ({"image": "v1", "disable": "yes"},
         "Cannot set 'disable' status to: 'yes', instead of 'true' or 'false'"),
        ({"image": "v1", "disable": "true"},
         "Reason cannot be empty while disabling a image rollback"),
        ({"image": "v7", "disable": "false"}, "Invalid version: v7"),
    ]  # fmt: skip
    for form, text in cases:
        r = call(w.app, "PUT", url, admin(), data=form)
        assert (r.status_code, r.text) == (400, text + "\n"), form
    r = call(w.app, "PUT", url, user("x@example.com", ("app.read", "global", "")),
             data={"image": "v1", "disable": "true", "reason": "r"})  # fmt: skip
    assert (r.status_code, r.text) == (
        403, "User does not have permission to do this action in this app\n",
    )  # fmt: skip
    r = call(w.app, "PUT", url, admin(), data={"image": "v1", "disable": "true", "reason": "bad"})
    assert (r.status_code, r.text) == (200, "")
    v1 = w.deps.stores.versions.get("shop", 1)
    assert v1 is not None and v1.disabled and v1.disabled_reason == "bad"
    assert w.events("app.update.deploy.rollback")[-1].error == ""
    r = call(w.app, "POST", "/apps/shop/deploy/rollback", admin(), data={"image": "v1"})
    assert r.text == "the selected version is disabled for rollback: bad\n"
    call(w.app, "PUT", url, admin(), data={"image": "1", "disable": "false"})
    r = call(w.app, "POST", "/apps/shop/deploy/rollback", admin(), data={"image": "v1"})
    assert r.status_code == 200


def test_rebuild_builds_a_new_version_from_the_last_successful_one() -> None:
    w = world()
    r = call(w.app, "POST", "/apps/shop/deploy/rebuild", admin(), data={})
    assert (r.status_code, r.text) == (400, "Invalid deployment origin\n")
    r = call(w.app, "POST", "/apps/shop/deploy/rebuild", admin(), data={"origin": "rebuild"})
    assert (r.status_code, r.text) == (400, "no versions available for app\n")
    w.add_version(1)
    w.add_version(2, deploy_successful=False)
    r = call(w.app, "POST", "/apps/shop/deploy/rebuild", admin(), data={"origin": "rebuild"})
    # The stream is read to its end, as a client does: the version is saved as it closes.
    assert r.status_code == 200 and [x["Message"] for x in lines(r)] == ["deploy shop\n"]
    sent = w.provisioner.sent[-1]
    assert (sent.args["kind"], sent.args["version"], sent.args["from_version"]) == ("rebuild", 3, 1)
    v3 = w.deps.stores.versions.get("shop", 3)
    assert v3 is not None and v3.deploy_successful and v3.kind == "rebuild"
    # tsuru checks the archive-url deploy permission for a rebuild.
    r = call(w.app, "POST", "/apps/shop/deploy/rebuild",
             user("x@example.com", ("app.deploy.archive-url", "team", "blue")),
             data={"origin": "rebuild"})  # fmt: skip
    assert r.status_code == 200
    r = call(w.app, "POST", "/apps/shop/deploy/rebuild",
             user("y@example.com", ("app.deploy.upload", "team", "blue")),
             data={"origin": "rebuild"})  # fmt: skip
    assert r.status_code == 403


def test_version_removal() -> None:
    w = world()
    w.add_version(1)
    w.add_version(2)
    r = call(w.app, "DELETE", "/apps/shop/versions/9", admin())
    assert (r.status_code, r.text) == (404, "Invalid version: 9\n")
    r = call(w.app, "DELETE", "/apps/shop/versions/1", admin())
    assert r.status_code == 200
    assert [x["Message"] for x in lines(r)] == [
        "\n ---> Deleting version 1 of app shop\n",
        "version.remove shop\n",
        "---- Done removing application version 1.\n",
    ]
    assert w.provisioner.sent[-1].args == {"version": 1}
    assert w.deps.stores.versions.get("shop", 1) is None
    event = w.events("app.update")[-1]
    assert {"name": ":version", "value": "1"} in event.start_custom_data
    w.provisioner.command_error = "version 2 is serving"
    r = call(w.app, "DELETE", "/apps/shop/versions/2", admin())
    assert [x["Message"] for x in lines(r)][-2:] == [
        "Unable to destroy app in provisioner: version 2 is serving\n",
        "---- Done removing application version 2. Some errors occurred during removal.\n",
    ]
    assert all("Error" not in x for x in lines(r))
    v2 = w.deps.stores.versions.get("shop", 2)
    assert v2 is not None and not v2.marked_to_removal
    r = call(
        w.app,
        "DELETE",
        "/apps/shop/versions/2",
        user("z@example.com", ("app.update.env", "global", "")),
    )
    assert r.status_code == 403
