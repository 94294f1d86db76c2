"""The apps service is honest about what is not built: 501 with a reason."""

from __future__ import annotations

from services.apps.bootstrap import create_app
from shared.settings import Settings


def test_unbuilt_routes_answer_501_and_health_answers():
    app = create_app(
        Settings(
            data_dir="/tmp/x", namespace="t", mongo_url="", amqp_url="", identity_secret=b"s" * 32
        )
    )
    client = app.test_client()
    r = client.get("/some/route")
    assert r.status_code == 501
    assert r.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert "has not built GET /some/route" in r.text
    assert client.get("/internal/health").status_code == 200


def test_every_route_declares_its_permission():
    from shared.testing.routes import undeclared_routes, unknown_permissions

    app = create_app(
        Settings(
            data_dir="/tmp/x", namespace="t", mongo_url="", amqp_url="", identity_secret=b"s" * 32
        )
    )
    assert undeclared_routes(app) == []
    assert unknown_permissions(app) == []
