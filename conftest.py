"""Session fixtures shared by the integration tests of every folder.

* ``mongo_url``: one SecantusDB for the whole session (temp storage), or
  ``TSUBAME_TEST_MONGO_URL`` when set.
* ``mongo_client``: a pymongo client on it.
* ``amqp_url``: ``TSUBAME_AMQP_URL`` or the local guest broker; fails loudly (never
  skips) when RabbitMQ does not answer (``make test`` starts/installs one first).
* ``namespace``: ``test_<random>``, unique per session, so parallel runs and stacks
  sharing a server never meet. Use it for database, exchange and queue names.
* ``podman_engines``: two Docker-API engines (podman services, ``scripts/podman.py``)
  for the whole session, with the base images loaded: their addresses. Fails with the
  reason (never skips) when they cannot start; removed with their containers after.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from scripts.mongo import MongoServer
from scripts.podman import EngineError, Engines
from scripts.rabbitmq import DEFAULT_AMQP_URL, RabbitMQUnavailable, check_amqp


@pytest.fixture(scope="session")
def namespace() -> str:
    return f"test_{secrets.token_hex(4)}"


@pytest.fixture(scope="session")
def mongo_url() -> Iterator[str]:
    given = os.environ.get("TSUBAME_TEST_MONGO_URL")
    if given:
        yield given
        return
    root = Path(tempfile.mkdtemp(prefix="tsubame-test-mongo-"))
    server = MongoServer(root / "data", root / "secantusd.log")
    server.start()
    try:
        yield server.url
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def mongo_client(mongo_url: str) -> Iterator[object]:
    from pymongo import MongoClient

    client: MongoClient = MongoClient(mongo_url)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture(scope="session")
def amqp_url() -> str:
    url = os.environ.get("TSUBAME_AMQP_URL", DEFAULT_AMQP_URL)
    try:
        check_amqp(url)
    except RabbitMQUnavailable as exc:
        pytest.fail(
            f"RabbitMQ is required by integration tests and does not answer: {exc}. "
            "Run `make test` (it starts one) or set TSUBAME_AMQP_URL.",
            pytrace=False,
        )
    return url


@pytest.fixture(scope="session")
def podman_engines() -> Iterator[list[str]]:
    # Short path: a unix socket path holds at most 107 bytes.
    root = Path(tempfile.mkdtemp(prefix="tsubame-engines-"))
    engines = Engines(root)
    try:
        addresses = engines.start(2)
    except (EngineError, OSError) as exc:
        engines.stop(destroy=True)
        shutil.rmtree(root, ignore_errors=True)
        pytest.fail(f"the podman engines could not start: {exc}", pytrace=False)
    try:
        yield addresses
    finally:
        engines.stop(destroy=True)
        shutil.rmtree(root, ignore_errors=True)
