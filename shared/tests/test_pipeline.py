"""shared.pipeline: forward in order, backward in reverse on failure (tsuru's action)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import pytest

from shared.pipeline import Action, Backward, Forward, Pipeline


@dataclass
class Trace:
    calls: list[str] = field(default_factory=list)


def step(name: str, *, fail: bool = False, fail_back: bool = False) -> Action[Trace]:
    def forward(ctx: Forward[Trace]) -> Any:
        ctx.params.calls.append(f"+{name}({ctx.previous})")
        if fail:
            raise RuntimeError(f"{name} broke")
        return f"r{name}"

    def backward(ctx: Backward[Trace]) -> None:
        ctx.params.calls.append(f"-{name}({ctx.result})")
        if fail_back:
            raise OSError(f"undo {name} broke")

    return Action(name, forward, backward)


def test_forwards_run_in_order_passing_results_and_return_the_last() -> None:
    trace = Trace()
    assert Pipeline(step("a"), step("b"), step("c")).execute(trace) == "rc"
    assert trace.calls == ["+a(None)", "+b(ra)", "+c(rb)"]


def test_failure_rolls_back_done_steps_in_reverse_without_the_failing_one() -> None:
    trace = Trace()
    with pytest.raises(RuntimeError, match="c broke"):
        Pipeline(step("a"), step("b"), step("c", fail=True), step("d")).execute(trace)
    assert trace.calls == ["+a(None)", "+b(ra)", "+c(rb)", "-b(rb)", "-a(ra)"]


def test_backward_errors_are_logged_and_the_rollback_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    trace = Trace()
    with caplog.at_level(logging.ERROR, logger="shared.pipeline"):
        with pytest.raises(RuntimeError, match="c broke"):
            Pipeline(step("a"), step("b", fail_back=True), step("c", fail=True)).execute(trace)
    assert trace.calls == ["+a(None)", "+b(ra)", "+c(rb)", "-b(rb)", "-a(ra)"]
    assert "backward of b failed" in caplog.text


def test_on_error_sees_the_exception_before_the_rollback() -> None:
    trace = Trace()
    seen: list[str] = []

    def on_error(ctx: Forward[Trace], exc: BaseException) -> None:
        seen.append(f"{exc} after {ctx.previous}; done so far {len(trace.calls)}")

    boom = Action[Trace]("boom", step("x", fail=True).forward, on_error=on_error)
    with pytest.raises(RuntimeError):
        Pipeline(step("a"), boom).execute(trace)
    assert seen == ["x broke after ra; done so far 2"]
    assert trace.calls == ["+a(None)", "+x(ra)", "-a(ra)"]


def test_actions_without_backward_are_skipped_in_the_rollback() -> None:
    trace = Trace()
    plain = Action[Trace]("plain", lambda ctx: ctx.params.calls.append("+plain"))
    with pytest.raises(RuntimeError):
        Pipeline(step("a"), plain, step("z", fail=True)).execute(trace)
    assert trace.calls == ["+a(None)", "+plain", "+z(None)", "-a(ra)"]


def test_interrupts_roll_back_too_and_propagate() -> None:
    trace = Trace()

    def interrupted(ctx: Forward[Trace]) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        Pipeline(step("a"), Action[Trace]("stop", interrupted)).execute(trace)
    assert trace.calls == ["+a(None)", "-a(ra)"]


def test_an_empty_pipeline_is_refused() -> None:
    with pytest.raises(ValueError):
        Pipeline[Trace]()
