import pytest

from services.events.domain.errors import InvalidWebhook
from services.events.domain.render import event_json
from services.events.domain.urls import url_error
from services.events.domain.webhooks import (
    INVALID_NAME,
    WebhookFilter,
    kind_name_prefixes,
    matches,
    team_may_read,
    validate_name,
    validate_urls,
)
from services.events.tests.unit.factories import event_record, webhook


def ev(**over: object) -> dict:
    return event_json(event_record(**over))


def test_kind_prefixes() -> None:
    assert kind_name_prefixes("app.update.env.set") == {
        "app", "app.update", "app.update.env", "app.update.env.set"
    }  # fmt: skip
    assert kind_name_prefixes("healer") == {"healer"}


def test_empty_filter_matches_everything() -> None:
    assert matches(webhook(), ev())
    assert matches(webhook(), ev(error="x"))


def test_filter_fields() -> None:
    si = ev(
        target={"type": "service-instance", "value": "s/i"},
        extratargets=[{"target": {"type": "app", "value": "myapp"}, "lock": False}],
    )
    by = lambda **f: webhook(event_filter=WebhookFilter(**f))  # noqa: E731
    assert matches(by(target_values=("myapp",)), si)
    assert matches(by(target_types=("app",)), si)
    assert not matches(by(target_types=("pool",)), si)
    assert matches(by(kind_names=("app.update",)), ev())
    assert not matches(
        by(kind_names=("app.update.env.set",)),
        ev(kind={"type": "permission", "name": "app.update"}),
    )
    assert matches(by(kind_types=("permission",)), ev())
    assert not matches(by(kind_types=("internal",)), ev())
    assert not matches(by(error_only=True), ev())
    assert matches(by(error_only=True), ev(error="boom"))
    assert not matches(by(success_only=True), ev(error="boom"))
    assert matches(by(success_only=True), ev())


def test_team_may_read_needs_the_team_context() -> None:
    assert team_may_read(webhook(team_owner="myteam"), ev())
    assert not team_may_read(webhook(team_owner="other"), ev())
    assert not team_may_read(
        webhook(), ev(allowed={"scheme": "cluster.read.events", "contexts": []})
    )
    assert team_may_read(webhook(team_owner=""), ev(allowed={"scheme": "x", "contexts": []}))


def test_name_validation() -> None:
    validate_name("a-1")
    validate_name("a" * 40)
    with pytest.raises(InvalidWebhook, match="webhook name must not be empty"):
        validate_name("")
    # Go's $ is the end of the text: a trailing newline is not a valid name.
    for bad in ("1a", "A", "a_b", "a" * 41, "abc\n"):
        with pytest.raises(InvalidWebhook) as err:
            validate_name(bad)
        assert str(err.value) == INVALID_NAME


def test_url_validation_texts() -> None:
    with pytest.raises(InvalidWebhook, match="^webhook url must not be empty$"):
        validate_urls(webhook(url=""))
    with pytest.raises(InvalidWebhook) as err:
        validate_urls(webhook(url=":/:x"))
    assert str(err.value) == 'webhook url is not valid: parse ":/:x": missing protocol scheme'
    with pytest.raises(InvalidWebhook) as err:
        validate_urls(webhook(proxy_url="http://p:x"))
    assert (
        str(err.value)
        == 'webhook proxy url is not valid: parse "http://p:x": invalid port ":x" after host'
    )
    validate_urls(webhook(url="foo"))  # Go's parser is lenient


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("http://me", None),
        ("http://x/%zz", 'parse "http://x/%zz": invalid URL escape "%zz"'),
        ("http://a b/", 'parse "http://a b/": invalid character " " in host name'),
        ("1a:b", 'parse "1a:b": first path segment in URL cannot contain colon'),
        ("http://x\n", 'parse "http://x\\n": net/url: invalid control character in URL'),
    ],
)
def test_go_url_errors(url: str, error: str | None) -> None:
    assert url_error(url) == error
