from datetime import UTC, datetime, timedelta

from bson import ObjectId

from shared.events import documents
from shared.events.blocks import Block, blocked_message, first_match
from shared.events.model import Target

T0 = datetime(2021, 5, 17, 12, 0, tzinfo=UTC)
MYAPP = Target("app", "myapp")


def block(**over: object) -> Block:
    fields: dict = {"id": ObjectId(), "start_time": T0, "reason": "maintenance"}
    fields.update(over)
    return Block(**fields)


def hits(b: Block, kind: str = "app.deploy", owner: str = "dev@example.com",
         target: Target = MYAPP, data: object = None) -> bool:  # fmt: skip
    return b.matches(kind=kind, owner_name=owner, target=target, custom_data=data)


def test_empty_block_matches_everything_but_event_blocks() -> None:
    b = block()
    assert hits(b)
    assert hits(b, kind="healer", target=Target("node", "n1"))
    assert not hits(b, kind="event-block.remove", target=Target("event-block", "x"))


def test_kind_name_is_a_plain_string_prefix() -> None:
    assert hits(block(kind_name="app"), kind="app.update.env.set")
    assert hits(block(kind_name="machine.template"), kind="machine.template.create")
    assert hits(block(kind_name="app.dep"), kind="app.deploy")
    assert not hits(block(kind_name="app.deploy"), kind="app.update")


def test_owner_name_exact() -> None:
    assert hits(block(owner_name="dev@example.com"))
    assert not hits(block(owner_name="dev@example"))


def test_target_exact_or_type_with_empty_value() -> None:
    assert hits(block(target=Target("app", "myapp")))
    assert hits(block(target=Target("app", "")))
    assert not hits(block(target=Target("app", "other")))
    assert not hits(block(target=Target("pool", "")))


def test_conditions_match_custom_data_fields() -> None:
    b = block(conditions={"pool": "pool2"})
    assert hits(b, data=[{"name": "pool", "value": "pool2"}, {"name": ":app", "value": "a"}])
    assert not hits(b, data=[{"name": "pool", "value": "pool1"}])
    assert not hits(b, data=None)
    assert not hits(b, data={"pool": "pool2"})


def test_newest_matching_block_is_reported() -> None:
    old = block(reason="old", start_time=T0)
    new = block(reason="new", start_time=T0 + timedelta(seconds=5))
    other = block(reason="other", start_time=T0 + timedelta(seconds=9), kind_name="pool")
    inactive = block(reason="off", start_time=T0 + timedelta(seconds=9), active=False)
    found = first_match(
        [old, new, other, inactive], kind="app.deploy", owner_name="x",
        target=Target("app", "a"), custom_data=None,
    )  # fmt: skip
    assert found is new


def test_blocked_message_text() -> None:
    assert (
        blocked_message("app.deploy", Target("app", "myapp"), block(reason="maintenance window"))
        == 'error running "app.deploy" on app(myapp): block all actions by all users on all '
        "targets: maintenance window"
    )
    b = block(kind_name="app.deploy", owner_name="me", target=Target("app", "myapp"), reason="r")
    assert (
        blocked_message("app.deploy", Target("app", "myapp"), b)
        == 'error running "app.deploy" on app(myapp): block app.deploy by me on app(myapp): r'
    )


def test_doc_round_trip() -> None:
    b = block(kind_name="app", conditions={"pool": "p"}, target=Target("app", "a"))
    assert documents.block_from_doc(documents.block_to_doc(b)) == b
