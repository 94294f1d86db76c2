"""Fan-out and delivery with in-memory stores and a fake HTTP sender."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest

from services.events.domain.deliveries import DELIVERED, FAILED, PENDING, RETRYING, SKIPPED
from services.events.domain.outgoing import OutgoingRequest, build_request
from services.events.domain.render import event_json
from services.events.domain.webhooks import WebhookFilter
from services.events.operations.delivery import deliver, fan_out
from services.events.tests.fakes import RecordingSender, fake_deps
from services.events.tests.unit.factories import event_record, webhook


class World:
    def __init__(self, answers: list[int] | None = None) -> None:
        self.deps = fake_deps()
        self.deps.sender = RecordingSender(list(answers or []))
        self.events = self.deps.stores.events
        self.webhooks = self.deps.stores.webhooks
        self.deliveries = self.deps.stores.deliveries

    @property
    def queued(self) -> list[dict[str, Any]]:
        return [body for key, body in self.deps.publisher]  # type: ignore[attr-defined]

    @property
    def retries(self) -> list[tuple[dict[str, Any], int]]:
        return self.deps.retries.scheduled  # type: ignore[attr-defined, no-any-return]

    @property
    def sent(self) -> list[OutgoingRequest]:
        return self.deps.sender.sent  # type: ignore[attr-defined, no-any-return]

    def fan_out(self, event_id: str) -> int:
        return fan_out(self.deps, event_id)

    def deliver(self, msg: dict[str, Any], max_attempts: int = 3) -> Any:
        self.deps.retries.max_attempts = max_attempts  # type: ignore[misc]
        return deliver(self.deps, msg)


def test_fan_out_queues_matching_readable_webhooks_once() -> None:
    w = World()
    doc = event_record()
    w.events.insert(doc)
    w.webhooks.create(webhook(name="all"))
    w.webhooks.create(webhook(name="other-team", team_owner="other"))
    w.webhooks.create(webhook(name="pools", event_filter=WebhookFilter(target_types=("pool",))))
    w.webhooks.create(webhook(name="errors", event_filter=WebhookFilter(error_only=True)))
    eid = doc.unique_id
    assert w.fan_out(eid) == 1
    assert w.queued == [{"event": eid, "webhook": "all", "attempt": 1}]
    assert w.deliveries.get(eid, "all").status == PENDING
    assert w.fan_out(eid) == 0  # a redelivered notice queues nothing new
    assert w.fan_out("nothex") == 0


def test_sweep_fans_out_recent_events_never_dispatched() -> None:
    from datetime import timedelta

    from services.events.operations.delivery import sweep
    from shared.events.model import now

    w = World()
    recent = event_record(endtime=now() - timedelta(seconds=60))
    fresh = event_record(endtime=now())  # still in the normal path
    old = event_record(endtime=now() - timedelta(hours=2))
    for d in (recent, fresh, old):
        w.events.insert(d)
    assert sweep(w.deps) == 0  # no webhooks: nothing to look at
    w.webhooks.create(webhook())
    assert sweep(w.deps) == 1
    assert w.queued == [{"event": recent.unique_id, "webhook": "hook", "attempt": 1}]
    assert sweep(w.deps) == 0  # dispatched now
    assert w.deliveries.dispatched([recent.unique_id]) == {recent.unique_id}


def test_with_no_webhook_a_finished_event_costs_no_read_and_no_mark() -> None:
    w = World()
    doc = event_record()
    w.events.insert(doc)
    reads: list[Any] = []
    real_get = w.events.get
    w.events.get = lambda oid: reads.append(oid) or real_get(oid)  # type: ignore[method-assign]
    assert w.fan_out(doc.unique_id) == 0
    assert reads == []
    assert w.deliveries.dispatched([doc.unique_id]) == set()
    assert w.queued == []
    w.webhooks.create(webhook())
    assert w.fan_out(doc.unique_id) == 1  # with one, the event is read and marked
    assert reads == [doc.id]
    assert w.deliveries.dispatched([doc.unique_id]) == {doc.unique_id}


def test_the_sweep_leaves_events_that_ended_before_the_webhook_existed() -> None:
    from datetime import timedelta

    from services.events.operations.delivery import sweep
    from shared.events.model import now

    w = World()
    ended = now() - timedelta(seconds=60)
    doc = event_record(endtime=ended)
    w.events.insert(doc)
    assert w.fan_out(doc.unique_id) == 0  # no webhook yet: no mark either
    w.webhooks.create(webhook(name="newer", created=ended + timedelta(seconds=1)))
    assert sweep(w.deps) == 0
    w.webhooks.create(webhook(name="older", created=ended - timedelta(seconds=1)))
    assert sweep(w.deps) == 1
    assert w.queued == [{"event": doc.unique_id, "webhook": "older", "attempt": 1}]


def test_sweep_costs_two_reads_whatever_the_window() -> None:
    # A burst of finished events must not cost a query per event (it took minutes).
    from datetime import timedelta

    from services.events.operations.delivery import sweep
    from shared.events.model import now

    w = World()
    for _ in range(2500):
        w.events.insert(event_record(endtime=now() - timedelta(seconds=60)))
    w.webhooks.create(webhook(event_filter=WebhookFilter(target_types=("nothing",))))
    calls: list[str] = []
    d = w.deliveries
    for name in ("dispatched_between", "dispatched", "get", "add", "mark_dispatched"):
        real = getattr(d, name)
        setattr(d, name, lambda *a, _n=name, _r=real: calls.append(_n) or _r(*a))
    reads: list[int] = []
    real_pages = w.events.finished_between
    w.events.finished_between = lambda *a, **k: reads.append(1) or real_pages(*a, **k)  # type: ignore[method-assign]
    for _ in range(2):
        calls.clear()
        assert sweep(w.deps, page_size=1000) == 0  # wanted by no webhook: nothing queued
        assert calls == ["dispatched_between"]  # no lookup or write per event
    assert reads == [1, 1]
    assert w.queued == []


def test_sweep_forgets_marks_older_than_every_window() -> None:
    from datetime import timedelta

    from services.events.operations.delivery import sweep
    from shared.events.model import now

    w = World()
    w.webhooks.create(webhook())
    w.deliveries.mark_dispatched("ancient", now() - timedelta(hours=1))
    w.deliveries.mark_dispatched("recent", now() - timedelta(seconds=60))
    sweep(w.deps)
    assert w.deliveries.dispatched(["ancient", "recent"]) == {"recent"}


def test_running_events_are_not_delivered() -> None:
    w = World()
    doc = event_record(running=True)
    w.events.insert(doc)
    w.webhooks.create(webhook())
    assert w.fan_out(doc.unique_id) == 0


def test_deliver_success_then_duplicates_are_dropped() -> None:
    w = World()
    doc = event_record()
    w.events.insert(doc)
    w.webhooks.create(webhook(secret="k"))
    msg = {"event": doc.unique_id, "webhook": "hook", "attempt": 1}
    assert w.deliver(msg).status == DELIVERED
    assert w.deliver(msg).status == DELIVERED
    assert len(w.sent) == 1
    req = w.sent[0]
    assert req.method == "POST"
    assert json.loads(req.body or b"") == event_json(doc)
    assert req.header("Content-Type") == ["application/json"]
    assert req.header("User-Agent") == ["tsuru-webhook-client/1.0"]
    expected = hmac.new(b"k", req.body or b"", hashlib.sha256).hexdigest()
    assert req.header("X-Tsubame-Signature") == [f"sha256={expected}"]
    assert req.header("X-Tsubame-Event-Id") == [doc.unique_id]


def test_retry_on_5xx_until_attempts_run_out() -> None:
    w = World(answers=[500, 502, 503])
    doc = event_record()
    w.events.insert(doc)
    w.webhooks.create(webhook())
    msg = {"event": doc.unique_id, "webhook": "hook", "attempt": 1}
    first = w.deliver(msg)
    assert (first.status, first.attempts, first.last_status) == (RETRYING, 1, 500)
    assert first.last_error == "invalid status code calling hook: 500: body"
    assert w.retries == [({**msg, "attempt": 2}, 1)]
    assert w.deliver({**msg, "attempt": 2}).status == RETRYING
    last = w.deliver({**msg, "attempt": 3})
    assert (last.status, last.attempts) == (FAILED, 3)
    assert len(w.retries) == 2


def test_4xx_is_final_and_connection_errors_retry() -> None:
    w = World(answers=[404])
    doc = event_record()
    w.events.insert(doc)
    w.webhooks.create(webhook())
    msg = {"event": doc.unique_id, "webhook": "hook", "attempt": 1}
    assert w.deliver(msg).status == FAILED and w.retries == []
    w2 = World(answers=[0])
    w2.events.insert(doc)
    w2.webhooks.create(webhook())
    assert w2.deliver(msg).status == RETRYING


def test_template_failure_skips_and_removed_webhook_fails() -> None:
    w = World()
    doc = event_record()
    w.events.insert(doc)
    w.webhooks.create(webhook(body="{{.Nope}}"))
    msg = {"event": doc.unique_id, "webhook": "hook", "attempt": 1}
    assert w.deliver(msg).status == SKIPPED and w.sent == []
    gone = w.deliver({**msg, "webhook": "zz"})
    assert (gone.status, gone.last_error) == (FAILED, "webhook removed")


@pytest.mark.parametrize(
    ("method", "body", "expected_body", "content_type"),
    [
        ("", "", None, ["application/json"]),
        ("get", "", None, ["text/x"]),
        ("PUT", "{{.Kind.Name}} on {{.Target.Value}}", b"app.update.env.set on myapp", ["text/x"]),
        ("POST", "ahoy {{ --", b"ahoy {{ --", ["text/x"]),
    ],
)
def test_request_construction(
    method: str, body: str, expected_body: bytes | None, content_type: list[str]
) -> None:
    doc = event_record()
    hook = webhook(method=method, body=body, headers={"Content-Type": ("text/x",), "X-Ahoy": ("Errrr",)},
                   proxy_url="proxy:3128", secret="s")  # fmt: skip
    req = build_request(hook, event_json(doc))
    assert req.method == (method.upper() or "POST")
    if expected_body is not None:
        assert req.body == expected_body
    elif req.method == "POST":
        assert json.loads(req.body or b"")["UniqueID"] == doc.unique_id
    else:
        assert req.body is None
    assert req.header("Content-Type") == content_type
    assert req.header("X-Ahoy") == ["Errrr"]
    assert req.proxy == "http://proxy:3128"
    ua = build_request(webhook(headers={"user-agent": ("mine",)}), event_json(doc))
    assert ua.header("User-Agent") == ["mine"]


def test_an_empty_configured_user_agent_gets_tsurus() -> None:
    # Go's req.UserAgent() is the first value: "" counts as not configured.
    doc = event_record()
    ua = build_request(webhook(headers={"User-Agent": ("", "x")}), event_json(doc))
    assert ua.header("User-Agent") == ["tsuru-webhook-client/1.0"]
    ua = build_request(webhook(headers={"User-Agent": ()}), event_json(doc))
    assert ua.header("User-Agent") == ["tsuru-webhook-client/1.0"]


def test_default_body_is_json_escaped_like_gos_marshal() -> None:
    # encoding/json escapes <, >, & and U+2028/U+2029 inside strings.
    doc = event_record(error="a<b> & c\u2028")
    req = build_request(webhook(), event_json(doc))
    assert b'"Error":"a\\u003cb\\u003e \\u0026 c\\u2028"' in (req.body or b"")
    assert json.loads(req.body or b"")["Error"] == "a<b> & c\u2028"


@pytest.mark.parametrize(
    "flt,team",
    [
        (WebhookFilter(), "myteam"),
        (WebhookFilter(), "other"),
        (WebhookFilter(), ""),
        (WebhookFilter(target_types=("pool",)), "myteam"),
        (WebhookFilter(target_values=("extra",)), "myteam"),
        (WebhookFilter(kind_names=("app.update",)), "myteam"),
        (WebhookFilter(kind_types=("internal",)), "myteam"),
        (WebhookFilter(error_only=True), "myteam"),
        (WebhookFilter(success_only=True), "myteam"),
    ],
)
def test_the_sweep_matches_as_the_fan_out_does(flt: WebhookFilter, team: str) -> None:
    # The sweep reads only an event's head; it must decide as the whole Event JSON does.
    from datetime import timedelta

    from services.events.domain.webhooks import matches, team_may_read
    from shared.events.model import now

    w = World()
    records = [
        event_record(endtime=now() - timedelta(seconds=60)),
        event_record(
            endtime=now() - timedelta(seconds=60),
            error="boom",
            extratargets=[{"target": {"type": "pool", "value": "extra"}, "lock": False}],
        ),
    ]
    for r in records:
        w.events.insert(r)
    hook = webhook(event_filter=flt, team_owner=team)
    window = (now() - timedelta(seconds=600), now())
    heads = [h for page in w.events.finished_between(*window, page_size=10) for h in page]
    by_id = {r.unique_id: r for r in records}
    assert len(heads) == 2
    for head in heads:
        full = event_json(by_id[head.id])
        assert matches(hook, head.view()) == matches(hook, full)
        assert team_may_read(hook, head.view()) == team_may_read(hook, full)
