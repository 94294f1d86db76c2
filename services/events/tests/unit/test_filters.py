from datetime import UTC, datetime

import pytest

from services.events.domain.errors import InvalidFilter
from services.events.domain.filters import EventFilter, Visibility
from services.events.tests.unit.factories import event_record
from shared.events import Allowed
from shared.identity import Grant


def parse(**args: str | list[str]) -> EventFilter:
    return EventFilter.parse({k: v if isinstance(v, list) else [v] for k, v in args.items()})


def test_defaults() -> None:
    f = parse()
    assert (f.limit, f.skip, f.sort, f.running, f.error_only) == (100, 0, "-starttime", None, False)
    assert f.sort_key == ("starttime", -1)


def test_keys_are_case_insensitive_and_kind_names_repeat() -> None:
    f = EventFilter.parse({"kindName": ["app.deploy"], "KINDNAME": ["app.create", ""]})
    assert f.kind_names == ("app.deploy", "app.create")
    assert parse(**{"Target.Type": "app"}).target_type == "app"


@pytest.mark.parametrize(
    ("raw", "limit"), [("10", 10), ("0", 100), ("-3", 100), ("101", 100), ("+7", 7)]
)
def test_limit_bounds(raw: str, limit: int) -> None:
    assert parse(limit=raw).limit == limit


def test_bad_values_are_400() -> None:
    # strconv.ParseInt takes an optional sign and decimal digits only.
    for args in ({"limit": "abc"}, {"since": "yesterday"}, {"running": "maybe"},
                 {"limit": "1_0"}, {"limit": " 5"}, {"skip": "٣"}, {"since": "٢٠٢١"}):  # fmt: skip
        with pytest.raises(InvalidFilter) as err:
            parse(**args)
        assert err.value.status == 400
        assert str(err.value).startswith("unable to decode form: ")


def test_times_and_bools() -> None:
    f = parse(since="2021-05-17", until="2021-05-18T10:00:00Z", running="true", erroronly="1")
    assert f.since == datetime(2021, 5, 17, tzinfo=UTC)
    assert f.until == datetime(2021, 5, 18, 10, tzinfo=UTC)
    assert f.running is True and f.error_only is True


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2021", datetime(2021, 1, 1, tzinfo=UTC)),
        ("2021-05", datetime(2021, 5, 1, tzinfo=UTC)),
        ("2021-05-17T10", datetime(2021, 5, 17, 10, tzinfo=UTC)),
        ("2021-05-17T10Z", datetime(2021, 5, 17, 10, tzinfo=UTC)),
        ("2021-05-17T10:30", datetime(2021, 5, 17, 10, 30, tzinfo=UTC)),
        ("2021-05-17T10:30Z", datetime(2021, 5, 17, 10, 30, tzinfo=UTC)),
        ("2021-05-17T10:30:05-03", datetime(2021, 5, 17, 13, 30, 5, tzinfo=UTC)),
        ("2021-05-17T10:30:05.5-03:00", datetime(2021, 5, 17, 13, 30, 5, 500000, tzinfo=UTC)),
        ("2021-05-17T10:30:05.123456789Z", datetime(2021, 5, 17, 10, 30, 5, 123456, tzinfo=UTC)),
        # time of day only: Go's year 0, i.e. before every event
        ("10:30", datetime(1, 1, 1, 10, 30, tzinfo=UTC)),
        ("10:30:05Z", datetime(1, 1, 1, 10, 30, 5, tzinfo=UTC)),
    ],
)
def test_time_layouts_of_the_form_decoder(raw: str, expected: datetime) -> None:
    # ajg/form's allowedTimeFormats (RFC 3339 and its shortened forms).
    assert parse(since=raw).since == expected


def test_matching_semantics() -> None:
    doc = event_record(
        extratargets=[{"target": {"type": "service-instance", "value": "s/i"}, "lock": False}],
        error="boom",
    )
    assert parse(**{"target.type": "service-instance"}).matches(doc)
    assert parse(**{"target.value": "s/i"}).matches(doc)
    assert parse(**{"target.type": "app", "target.value": "s/i"}).matches(doc)  # independent
    assert not parse(**{"target.type": "pool"}).matches(doc)
    assert parse(kindname="app.update.env.set").matches(doc)
    assert not parse(kindname="app.update").matches(doc)  # exact, no prefix
    assert parse(erroronly="true").matches(doc)
    assert not parse(erroronly="true").matches(event_record())
    assert not parse(running="true").matches(doc)
    assert parse(ownername="admin@example.com", ownertype="user").matches(doc)
    assert not parse(since="2021-05-18").matches(doc)
    assert parse(until="2021-05-18").matches(doc)


def test_visibility_prefix_and_contexts() -> None:
    team = Visibility.of([Grant("app", "team", "myteam")])
    assert team.allows(Allowed("app.read.events", (("team", "myteam"),)))
    assert not team.allows(Allowed("app.read.events", (("team", "x"),)))
    assert not team.allows(Allowed("team.read.events", (("team", "myteam"),)))
    svc = Visibility.of([Grant("service", "global")])
    assert svc.allows(Allowed("service-instance.read.events"))  # plain prefix
    root = Visibility.of([Grant("")])
    assert root.everything and root.allows(Allowed("anything"))
    assert not Visibility.of([]).allows(Allowed("app.read.events"))
    mixed = Visibility.of([Grant("app", "team", "a"), Grant("app", "global")])
    assert mixed.allows(Allowed("app.read.events"))
