from datetime import UTC, datetime, timedelta, timezone

import pytest

from shared.golang.times import (
    ZERO_TIME,
    duration,
    parse_form_time,
    parse_rfc3339,
    rfc3339,
    rfc3339nano,
    time_string,
)

T = datetime(2021, 5, 17, 12, 0, 0, 123000, tzinfo=UTC)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"), (1e-9, "1ns"), (0.000000512, "512ns"), (0.0008124, "812.4µs"),
        (0.001042, "1.042ms"), (0.001234567, "1.234567ms"), (1.0, "1s"), (2.5, "2.5s"),
        (61, "1m1s"), (61.5, "1m1.5s"), (312.3, "5m12.3s"), (3600, "1h0m0s"),
        (3725.0, "1h2m5s"), (7322.25, "2h2m2.25s"), (-1.5, "-1.5s"),
    ],
)  # fmt: skip
def test_duration_prints_like_go(seconds: float, text: str) -> None:
    assert duration(seconds) == text


def test_rfc3339_forms() -> None:
    assert rfc3339(T) == "2021-05-17T12:00:00Z"
    assert rfc3339nano(T) == "2021-05-17T12:00:00.123Z"
    assert rfc3339nano(ZERO_TIME) == "0001-01-01T00:00:00Z"
    assert rfc3339nano(None) == "0001-01-01T00:00:00Z"
    assert time_string(T) == "2021-05-17 12:00:00.123 +0000 UTC"
    naive = datetime(2021, 5, 17, 12, 0, 0)
    assert rfc3339(naive) == "2021-05-17T12:00:00Z"
    plus2 = datetime(2021, 5, 17, 14, 0, 0, tzinfo=timezone(timedelta(hours=2)))
    assert rfc3339(plus2) == "2021-05-17T12:00:00Z"


def test_parse_rfc3339_and_form_layouts() -> None:
    assert parse_rfc3339("2021-05-17T12:00:00.123Z") == T
    assert parse_form_time("2021-05-17") == datetime(2021, 5, 17, tzinfo=UTC)
    assert parse_form_time("2021-05-17T14:00:00+02:00") == datetime(2021, 5, 17, 12, tzinfo=UTC)
    assert parse_form_time("15:04") == datetime(1, 1, 1, 15, 4, tzinfo=UTC)
    with pytest.raises(ValueError):
        parse_form_time("yesterday")
