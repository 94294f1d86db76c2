"""Scaling a running stack: start instances, or drain and stop them (Stack.scale).

Up: new instances start (a service instance on a free port, a gateway instance on the
public port), and once healthy join the instance registry; the call returns when
every gateway worker has applied it, so the next request may already go there.

Down: the highest-numbered instances go. A service instance is first marked
``draining`` in the registry; once every gateway worker has acknowledged that (or
after DRAIN_ACK_TIMEOUT) nothing new is sent to it, and SIGTERM lets gunicorn finish
the requests in flight. A worker finishes the message in hand (an unfinished command
is redelivered to a remaining worker). A gateway instance closes its listening socket
and finishes its requests.

A scale-up that fails (a new process dies or is not healthy in time) stops what it
started and raises; the instances that were running are untouched.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from scripts.procs import free_port, group_members
from scripts.scaling import GATEWAY, SERVICES, WORKERS
from scripts.supervisor import DRAINING, STARTING, STOPPED, Proc
from shared import instances as registry

if TYPE_CHECKING:
    from scripts.stack import Stack

POLL = 0.05
# How long a scale-down waits for every gateway worker to stop choosing an instance.
DRAIN_ACK_TIMEOUT = 5.0
# SIGTERM -> SIGKILL delay for an instance scaled away: gunicorn finishes the requests
# in flight within its graceful timeout; a worker finishes the message in hand.
STOP_GRACE = 30.0


def scale(stack: Stack, counts: dict[str, int], timeout: float) -> dict[str, int]:
    from scripts.stack import StackError

    with stack._scale_lock:
        if not stack._started:
            raise StackError("stack not started")
        current = stack.counts()
        added: list[Proc] = []
        try:
            for role, want in counts.items():
                for _ in range(want - current[role]):
                    added.append(_new(stack, role))
            if added:
                _start(stack, added, timeout)
        except BaseException:
            _remove(stack, added, grace=5.0)
            raise
        victims: list[Proc] = []
        for role, want in counts.items():
            victims += stack._role(role)[want:]
        if victims:
            _drain(stack, victims)
        if added or victims:
            summary = ", ".join(f"{role}={n}" for role, n in stack.counts().items())
            stack.log(f"scaled: {summary}")
        return stack.counts()


def _new(stack: Stack, role: str) -> Proc:
    used = {p.index for p in stack._role(role)}
    index = next(i for i in range(1, len(used) + 2) if i not in used)
    if role in SERVICES:
        return stack._add_service(role, index, free_port())
    if role in WORKERS:
        return stack._add_worker(role.removesuffix("-worker"), index)
    if role == GATEWAY:
        return stack._add_gateway(index)
    raise ValueError(role)


def _start(stack: Stack, added: list[Proc], timeout: float) -> None:
    for proc in added:
        stack.log(f"starting {proc.name}")
        proc.child.start()
        proc.state = STARTING
    stack._wait(added, timeout)
    stack._mark_up(added)


def _drain(stack: Stack, victims: list[Proc]) -> None:
    with stack._lock:
        for proc in victims:
            proc.held = True
            proc.state = DRAINING
        generation = stack._publish()
    if any(p.role in SERVICES for p in victims):
        await_gateways(stack, generation)
    for proc in victims:
        stack.log(f"draining {proc.name}")
    _remove(stack, victims, grace=STOP_GRACE)


def _remove(stack: Stack, procs: list[Proc], grace: float) -> None:
    with stack._lock:
        for proc in procs:
            proc.held = True
    for proc in procs:
        proc.child.terminate()
    for proc in procs:
        proc.child.stop(grace=grace)
    with stack._lock:
        for proc in procs:
            proc.state = STOPPED
            stack._procs.pop(proc.name, None)
        generation = stack._publish()
    if any(p.role in SERVICES for p in procs):
        await_gateways(stack, generation)


def await_gateways(stack: Stack, generation: int, timeout: float | None = None) -> bool:
    """Wait until every gateway worker that loaded the registry applied ``generation``.

    A worker that has not loaded it yet (no acknowledgement) reads the current file
    when it does, so it is not waited for. False (and a log line) after ``timeout``.
    """
    deadline = time.monotonic() + (DRAIN_ACK_TIMEOUT if timeout is None else timeout)
    path = stack.registry_path
    while True:
        members: set[int] = set()
        for proc in stack._role(GATEWAY):
            if proc.child.pid is not None and proc.child.running():
                members.update(group_members(proc.child.pid))
        acks = registry.read_acks(path)
        behind = []
        for pid, applied in acks.items():
            if pid not in members:
                registry.drop_ack(path, pid)  # a gateway worker that is gone
            elif applied < generation:
                behind.append(pid)
        if not behind:
            return True
        if time.monotonic() > deadline:
            stack.log(
                f"gateway workers {sorted(behind)} did not confirm instance set "
                f"{generation}; going on"
            )
            return False
        time.sleep(POLL)
