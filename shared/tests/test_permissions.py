from __future__ import annotations

import pytest

from shared import permissions as p
from shared.errors import Forbidden, Invalid
from shared.identity import Grant, Identity


def test_tree_has_tsuru_nodes_plus_team_quota():
    nodes = p.tree()
    assert len(nodes) == 244  # 241 of 1.11.0 + 3 of 1.12.0
    assert nodes[""].contexts == ("global",)
    assert nodes["app.create"].contexts == ("global", "team")
    assert nodes["service-instance"].contexts == ("global", "service-instance", "team")
    assert nodes["team.create"].contexts == ("global",)


def test_sorted_nodes_root_first_byte_order():
    names = [n.name for n in p.sorted_nodes()]
    assert names[:3] == ["", "app", "app.admin"]
    assert names.index("service-broker") < names.index("service.create")


def test_registration_order_walk_for_teams():
    team_nodes = [n.name for n in p.registration_order() if "team" in n.contexts]
    tops = [n for n in team_nodes if "." not in n]
    assert tops == ["app", "team", "service", "service-instance", "volume", "webhook"]


DEV = [Grant("app.deploy", "team", "blue"), Grant("app.read", "team", "blue")]


def test_check_examples_of_the_reference():
    a1 = [("team", "blue"), ("team", "red"), ("app", "a1"), ("pool", "p1")]
    a2 = [("team", "red"), ("app", "a2"), ("pool", "p1")]
    assert p.check(DEV, "app.deploy", a1)
    assert not p.check(DEV, "app.deploy", a2)
    assert p.check(DEV, "app.read.env", a1)
    assert not p.check(DEV, "app.update", a1)


def test_child_never_implies_parent_and_root_implies_all():
    assert not p.check([Grant("app.update.env.set")], "app.update")
    assert p.check([Grant("")], "anything.at.all", [])
    assert not p.check([Grant("app", "team", "x")], "app", [("pool", "x")])
    assert not p.check([Grant("application")], "app")  # prefix of a name, not a node


def test_no_context_check_needs_global():
    assert not p.check([Grant("team.create", "team", "t")], "team.create")
    assert p.check([Grant("team", "global", "")], "team.create")


def who(*grants: Grant) -> Identity:
    return Identity(kind="user", name="u@x.io", grants=grants)


def test_team_for():
    one = who(Grant("team.token.create", "team", "t1"))
    assert p.team_for(one, "team.token.create", lambda: None) == "t1"
    with pytest.raises(Forbidden):
        p.team_for(who(), "team.token.create", lambda: "t1")
    glob = who(Grant(""))
    assert p.team_for(glob, "team.token.create", lambda: "only") == "only"
    with pytest.raises(Invalid, match="You must provide a team"):
        p.team_for(glob, "team.token.create", lambda: None)
    two = who(Grant("team.token", "team", "a"), Grant("team.token", "team", "b"))
    with pytest.raises(Invalid):
        p.team_for(two, "team.token.create", lambda: None)


def test_authorization_decisions_are_noted_only_while_recording():
    caller = who(Grant("team.read", "team", "t1"))
    p.ensure(caller, "team.read", [("team", "t1")])  # not recording: nothing kept
    with p.recording() as checked:
        p.ensure(caller, "team.read", [("team", "t1")])
        with pytest.raises(Forbidden):
            p.ensure(caller, "team.update", [("team", "t1")])
        assert p.allows(caller, "*") is False
        with pytest.raises(Forbidden):
            p.ensure_any(caller, ["role.create", "role.delete"])
        assert p.scope(caller, "team.read") == [("team", "t1")]
        assert p.check(caller.grants, "app.read") is False  # pure: not noted
    assert checked == ["team.read", "team.update", "", "role.create", "role.delete", "team.read"]
