"""The catalog service in a process of its own, on its real adapters, for tests that
kill it: ``python -m services.catalog.tests.peers.catalog_process CONFIG_JSON``.

CONFIG_JSON names the database server and databases, the secret, and the apps peer;
the process prints its port on the first line of stdout once it listens.
"""

from __future__ import annotations

import json
import sys

from werkzeug.serving import make_server

from services.catalog.adapters.clients import HttpServiceClients
from services.catalog.adapters.contexts import HttpApps
from services.catalog.adapters.events import StoredEvents
from services.catalog.adapters.outbound import Outbound
from services.catalog.adapters.proxy import HttpProxy
from services.catalog.bootstrap import create_app
from services.catalog.operations.deps import Deps
from services.catalog.settings import CatalogSettings
from services.catalog.storage.mongo import mongo_stores
from services.catalog.tests.fakes import MemoryPools, MemoryTeams
from shared import mongo
from shared.client import InternalClient
from shared.events import EventRecorder, MongoEventStorage
from shared.settings import Settings
from shared.testing.bus import RecordingPublisher


def main(raw: str) -> None:
    config = json.loads(raw)
    secret = config["secret"].encode()
    client = mongo.connect(config["mongo_url"])
    events = MongoEventStorage(client[config["events_db"]])
    publisher = RecordingPublisher()
    deps = Deps(
        stores=mongo_stores(client[config["db"]]),
        recorder=EventRecorder(events, publish=publisher.publish, instance="catalog-process"),
        publisher=publisher,
        clients=HttpServiceClients(Outbound()),
        apps=HttpApps(
            InternalClient("apps", [config["apps_url"]], secret=secret, caller="catalog")
        ),
        pools=MemoryPools(),
        teams=MemoryTeams(),
        proxy=HttpProxy(),
        events=StoredEvents(events),
    )
    settings = CatalogSettings.from_settings(Settings("/nonexistent", "proc", "", "", secret))
    server = make_server("127.0.0.1", 0, create_app(settings, deps), threaded=True)
    print(server.server_port, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1])
