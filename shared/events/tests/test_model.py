from datetime import UTC, datetime

import pytest

from shared.events.model import Target, go_duration, rfc3339_seconds


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (312.3, "5m12.3s"),
        (3600, "1h0m0s"),
        (2.5, "2.5s"),
        (0.0008124, "812.4µs"),
        (0.001234567, "1.234567ms"),
        (1e-9, "1ns"),
        (61, "1m1s"),
        (7322.25, "2h2m2.25s"),
    ],
)
def test_go_duration_prints_like_go(seconds: float, text: str) -> None:
    assert go_duration(seconds) == text


def test_rfc3339_seconds_drops_fraction() -> None:
    t = datetime(2021, 5, 17, 12, 0, 0, 123000, tzinfo=UTC)
    assert rfc3339_seconds(t) == "2021-05-17T12:00:00Z"


def test_target_lock_id() -> None:
    assert Target("app", "myapp").lock_id == "app(myapp)"
