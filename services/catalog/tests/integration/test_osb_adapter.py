"""The OSB client against a real HTTP broker (catalog.md §d.3)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import pytest

from services.catalog.adapters.osb import BrokerApi, BrokerClient
from services.catalog.adapters.outbound import Outbound
from services.catalog.domain import errors
from services.catalog.domain.models import AppView, Broker, BrokerAuth, BrokerConfig, Plan
from services.catalog.operations.deps import CallContext
from services.catalog.tests.fakes import an_instance
from services.catalog.tests.peers.broker import FakeBroker

pytestmark = pytest.mark.integration

CTX = CallContext(user="dev@example.com", event_id="0123456789abcdef01234567")


@pytest.fixture
def broker() -> Iterator[FakeBroker]:
    fake = FakeBroker()
    yield fake
    fake.close()


def config(fake: FakeBroker, **kw) -> Broker:  # type: ignore[no-untyped-def]
    auth = BrokerAuth(fake.username, fake.password)
    return Broker("aws", fake.url, BrokerConfig(auth=auth, context={"region": "r1"}, **kw))


def test_catalog_and_plans(broker: FakeBroker) -> None:
    catalog = BrokerApi(Outbound(), config(broker)).catalog()
    db = catalog.service("db")
    assert db is not None and db.id == "svc-db" and db.description == "A database from the broker"
    plans = BrokerClient(Outbound(), config(broker), db).plans(CTX)
    assert [p.name for p in plans] == ["small", "big"]
    assert plans[0].schemas["service_instance"]["create"]["parameters"]["type"] == "object"
    assert plans[1] == Plan("big", "async", None)
    bad = Broker("aws", broker.url, BrokerConfig(auth=BrokerAuth("u", "wrong")))
    with pytest.raises(errors.ServiceApiError) as err:
        BrokerApi(Outbound(), bad).catalog()
    assert str(err.value) == (
        "Status: 401; ErrorMessage: <nil>; Description: bad credentials; ResponseError: <nil>"
    )


def test_lifecycle(broker: FakeBroker) -> None:
    b = config(broker)
    db = BrokerApi(Outbound(), b).catalog().service("db")
    assert db is not None
    client = BrokerClient(Outbound(), b, db)
    inst = an_instance(plan_name="small", parameters={"size": 10})
    data = client.create(inst, CTX)
    put = broker.received[-1]
    assert put.method == "PUT" and put.args == {"accepts_incomplete": "true"}
    assert put.body["service_id"] == "svc-db" and put.body["plan_id"] == "plan-small"
    assert put.body["parameters"] == {"size": 10}
    assert put.body["context"]["event_id"] == CTX.event_id and put.body["context"]["region"] == "r1"
    assert put.body["organization_guid"] == put.body["space_guid"] == data.org_id
    identity = put.headers["X-Broker-Api-Originating-Identity"].split(" ")
    assert identity[0] == "tsuru"
    assert json.loads(base64.b64decode(identity[1])) == {"user": "dev@example.com"}
    inst.broker_data = data
    assert client.status(inst, CTX) == "in progress - creating"
    assert client.status(inst, CTX) == "succeeded"
    app = AppView("shop", ("blue",), "blue", "p1")
    result = client.bind_app(inst, app, {"ro": True}, CTX)
    # Only string credentials become env vars (tsuru drops the others).
    assert result.envs == {"DB_URI": "pg://x"}
    assert result.broker_data is not None and "shop" in result.broker_data.binds
    bind = broker.received[-1]
    assert "accepts_incomplete" not in bind.args and bind.body["bind_resource"]["app_guid"]
    inst.broker_data = result.broker_data
    inst.broker_data = client.unbind_app(inst, app, CTX)
    assert inst.broker_data.binds == {} and broker.bindings == {}
    inst.plan_name = "big"
    inst.broker_data = client.update(inst, CTX)
    assert inst.broker_data.plan_id == "plan-big"
    assert broker.received[-1].body["previous_values"]["plan_id"] == "plan-small"
    client.destroy(inst, CTX)
    assert broker.instances == {}
    assert client.info(inst, CTX) == [{"label": "size", "value": "10"}]


def test_async_provision_keeps_its_operation(broker: FakeBroker) -> None:
    db = BrokerApi(Outbound(), config(broker)).catalog().service("db")
    assert db is not None
    client = BrokerClient(Outbound(), config(broker), db)
    data = client.create(an_instance(plan_name="big"), CTX)
    assert data.last_operation_key == "op-create"
    inst = an_instance(plan_name="big", broker_data=data)
    client.status(inst, CTX)
    assert broker.received[-1].args["operation"] == "op-create"


def test_failures(broker: FakeBroker) -> None:
    db = BrokerApi(Outbound(), config(broker)).catalog().service("db")
    assert db is not None
    client = BrokerClient(Outbound(), config(broker), db)
    with pytest.raises(errors.InvalidPlan) as err:
        client.create(an_instance(plan_name="huge"), CTX)
    assert str(err.value) == "invalid plan: huge"
    broker.fail["provision"] = 500
    with pytest.raises(errors.ServiceApiError, match="Status: 500; ErrorMessage: Boom"):
        client.create(an_instance(plan_name="small"), CTX)
    with pytest.raises(errors.InvalidBrokerData):
        client.bind_app(an_instance(), AppView("shop", (), "", ""), {}, CTX)
    client.destroy(an_instance(), CTX)  # no broker data: nothing to deprovision
