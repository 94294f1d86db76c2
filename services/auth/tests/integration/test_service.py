"""The auth service wired for real: MongoDB, the event log, RabbitMQ and SMTP."""

from __future__ import annotations

import json
import re
import secrets
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pika
import pytest
from aiosmtpd.controller import Controller
from flask import Flask

from services.auth.bootstrap import connect, create_app
from services.auth.operations.admin import ensure_admin
from services.auth.settings import AuthSettings
from shared.events import EVENTS
from shared.identity import internal_identity
from shared.settings import Settings
from shared.testing.identity import pending

pytestmark = pytest.mark.integration

SECRET = "integration-secret-0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Sink:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], str]] = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]  # noqa: N802
        self.messages.append((envelope.mail_from, envelope.rcpt_tos, envelope.content.decode()))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Sink, int]]:
    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


@pytest.fixture
def settings(mongo_url, amqp_url, smtp, tmp_path: Path) -> Settings:  # type: ignore[no-untyped-def]
    _, port = smtp
    return Settings.from_env(
        {
            "TSUBAME_IDENTITY_SECRET": SECRET,
            "TSUBAME_DATA_DIR": str(tmp_path),
            "TSUBAME_NAMESPACE": f"itest_{secrets.token_hex(4)}",
            "TSUBAME_MONGO_URL": mongo_url,
            "TSUBAME_AMQP_URL": amqp_url,
            "TSUBAME_HASH_COST": "4",
            "TSUBAME_ADMIN_EMAIL": "root@example.com",
            "TSUBAME_SMTP_SERVER": f"127.0.0.1:{port}",
            "TSUBAME_SMTP_USER": "tsubame@example.com",
        }
    )


def real_app(settings: Settings) -> Flask:
    """The service as wsgi.py builds it, started (indexes, first admin) at once."""
    auth = AuthSettings.from_settings(settings)
    wired = connect(auth)
    wired.startup()
    return create_app(auth, wired.deps, startup=wired.startup)


@pytest.fixture
def app(settings: Settings, mongo_client) -> Iterator[Flask]:  # type: ignore[no-untyped-def]
    yield real_app(settings)
    for ctx in ("auth", "events"):
        mongo_client.drop_database(settings.db_name(ctx))


@pytest.fixture
def bound_queue(
    settings: Settings,
) -> Iterator[tuple[pika.adapters.blocking_connection.BlockingChannel, str]]:
    conn = pika.BlockingConnection(pika.URLParameters(settings.amqp_url))
    ch = conn.channel()
    exchange = f"{settings.namespace}.domain"
    ch.exchange_declare(exchange, exchange_type="topic", durable=True)
    queue = ch.queue_declare("", exclusive=True).method.queue
    ch.queue_bind(queue, exchange, routing_key="auth.#")
    try:
        yield ch, queue
    finally:
        ch.exchange_delete(exchange)
        conn.close()


def admin_login(app: Flask, settings: Settings) -> tuple[str, dict[str, str]]:
    fields = dict(
        line.split("=", 1)
        for line in (Path(settings.data_dir) / "admin.txt").read_text().splitlines()
    )
    client = app.test_client()
    token = client.post("/auth/login", data=fields).get_json()["token"]
    internal = pending(internal_identity("gateway"), SECRET.encode())
    ident = client.post("/internal/introspect", json={"token": token}, headers=internal).get_json()
    from shared.identity import Identity

    return token, pending(Identity.from_json(ident), SECRET.encode())


def test_admin_seeded_and_reset_password_mail(
    app: Flask, settings: Settings, smtp, mongo_client
) -> None:  # type: ignore[no-untyped-def]
    sink, _ = smtp
    client = app.test_client()
    _, admin = admin_login(app, settings)
    resp = client.post(
        "/users", data={"email": "bob@example.com", "password": "bobpass1"}, headers=admin
    )
    assert resp.status_code == 201
    assert client.post("/users/bob@example.com/password").status_code == 200
    sender, rcpts, content = sink.messages[-1]
    assert (sender, rcpts) == ("tsubame@example.com", ["bob@example.com"])
    assert "Subject: [tsuru] Password reset process" in content
    found = re.search(r"\b[0-9a-f]{64}\b", content)
    assert found is not None
    token = found.group(0)
    resp = client.post("/users/bob@example.com/password", data={"token": token})
    assert resp.status_code == 200
    content = sink.messages[-1][2]
    assert "Password successfully reset" in content
    password = content.split("new password is:")[1].split()[0]
    assert (
        client.post(
            "/auth/login", data={"email": "bob@example.com", "password": password}
        ).status_code
        == 200
    )
    assert (
        client.post(
            "/auth/login", data={"email": "bob@example.com", "password": "bobpass1"}
        ).status_code
        == 401
    )
    # events landed in the event log, the reset token masked
    events = mongo_client[settings.db_name("events")][EVENTS]
    kinds = [
        e["kind"]["name"] for e in events.find({"target.value": "bob@example.com"}).sort("_id", 1)
    ]
    assert kinds == ["user.create", "user.update.reset", "user.update.reset"]
    last = events.find_one({"kind.name": "user.update.reset", "startcustomdata.name": "token"})
    assert {"name": "token", "value": "*****"} in last["startcustomdata"]
    # nothing stored in clear
    users = mongo_client[settings.db_name("auth")]["users"]
    assert "bobpass1" not in json.dumps(users.find_one({"_id": "bob@example.com"}), default=str)


def test_reset_mail_failure_is_tolerated(settings: Settings, mongo_client) -> None:  # type: ignore[no-untyped-def]
    broken = Settings.from_env(
        {**settings.extra, "TSUBAME_SMTP_SERVER": f"127.0.0.1:{free_port()}"}
    )
    app = real_app(broken)
    try:
        _, admin = admin_login(app, broken)
        client = app.test_client()
        client.post(
            "/users", data={"email": "bob@example.com", "password": "bobpass1"}, headers=admin
        )
        assert client.post("/users/bob@example.com/password").status_code == 200
    finally:
        for ctx in ("auth", "events"):
            mongo_client.drop_database(broken.db_name(ctx))


def test_logout_publishes_revocation(app: Flask, settings: Settings, bound_queue) -> None:
    ch, queue = bound_queue
    token, admin = admin_login(app, settings)
    resp = app.test_client().delete("/users/tokens", headers=admin)
    assert resp.status_code == 200
    method, _props, body = ch.basic_get(queue, auto_ack=True)
    assert method is not None and method.routing_key == "auth.token.revoked"
    from shared.identity import token_hash

    assert json.loads(body) == {"token_hash": token_hash(token)}


def test_admin_bootstrap_is_race_safe(settings: Settings, mongo_client) -> None:  # type: ignore[no-untyped-def]
    auth = AuthSettings.from_settings(settings)
    deps_list = [connect(auth).deps for _ in range(4)]
    results: list[str | None] = []
    barrier = threading.Barrier(len(deps_list))

    def run(deps) -> None:  # type: ignore[no-untyped-def]
        barrier.wait()
        results.append(ensure_admin(deps, "root@example.com"))

    threads = [threading.Thread(target=run, args=(d,)) for d in deps_list]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert len([r for r in results if r]) == 1
        users = mongo_client[settings.db_name("auth")]["users"]
        assert users.count_documents({"roles.name": "AllowAll"}) == 1
    finally:
        for ctx in ("auth", "events"):
            mongo_client.drop_database(settings.db_name(ctx))
