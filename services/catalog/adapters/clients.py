"""The ``ServiceClients`` the operations use: tsuru-style service APIs and brokers."""

from __future__ import annotations

from services.catalog.adapters.osb import BrokerApi, BrokerClient
from services.catalog.adapters.outbound import Outbound
from services.catalog.adapters.service_api import EndpointClient
from services.catalog.domain.models import Broker, Catalog, CatalogService, Service
from services.catalog.operations.deps import ServiceClient


class HttpServiceClients:
    def __init__(self, out: Outbound) -> None:
        self._out = out

    def endpoint(self, service: Service, url: str) -> ServiceClient:
        return EndpointClient(self._out, service, url)

    def broker(self, broker: Broker, service: CatalogService) -> ServiceClient:
        return BrokerClient(self._out, broker, service)

    def catalog(self, broker: Broker) -> Catalog:
        return BrokerApi(self._out, broker).catalog()
