"""Errors of the catalog context with tsuru 1.11's texts (catalog.md).

Where tsuru answers 500 for a client's mistake, the status is the 4xx the seed lists
for the route (docs/compatibility.md says which); the text stays tsuru's.
"""

from __future__ import annotations

import json

from shared.errors import Conflict, Forbidden, Invalid, NotFound, ServerError


def _quoted(text: str) -> str:
    """``"text"`` as Go's %q writes it (double quotes, escapes), as tsuru quotes names."""
    return json.dumps(text, ensure_ascii=False)


# --- services -------------------------------------------------------------------


class ServiceNotFound(NotFound):
    message = "Service not found"


class ServiceExists(Conflict):
    message = "Service already exists."


class ServiceIdRequired(Invalid):
    message = "Service id is required"


class BrokeredNotManaged(Invalid):
    message = "Brokered services are not managed."


class InvalidServiceId(Invalid):
    message = (
        "Invalid service id, should have at most 40 characters, containing only lower "
        "case letters, numbers or dashes, starting with a letter."
    )


class PasswordRequired(Invalid):
    message = "Service password is required"


class EndpointRequired(Invalid):
    message = "At least one endpoint is required"


class InvalidEndpoint(Invalid):
    """Tsubame validates endpoint URLs (tsuru stores any text)."""

    def __init__(self, name: str, url: str, why: str) -> None:
        super().__init__(f"invalid endpoint {_quoted(name)} ({_quoted(url)}): {why}")


class OwnerTeamRequired(Invalid):
    message = "At least one service team owner is required"


class TeamOwnerMissing(Invalid):
    message = "Team owner doesn't exist"


class NoServiceTeam(Invalid):
    message = "You must provide a team responsible for this service in the manifest file."


class ServiceHasInstances(Forbidden):
    message = (
        "This service cannot be removed because it has instances.\n"
        "Please remove these instances before removing the service."
    )


class TeamNotFound(Invalid):
    message = "Team not found"


class TeamAlreadyHasAccess(Conflict):
    message = "This team already has access to this service"


class TeamHasNoAccess(Conflict):
    message = "This team does not have access to this service"


class OnlyTeam(Forbidden):
    message = (
        "You can not revoke the access from this team, because it is the unique team with "
        "access to this service, and a service can not be orphaned"
    )


class UnknownEndpoint(ServerError):
    def __init__(self, name: str) -> None:
        super().__init__(f"Unknown endpoint: {name}")


class MissingPool(Invalid):
    def __init__(self, pools: list[str]) -> None:
        super().__init__(f"You must provide the pool name, available pools: {', '.join(pools)}")


# --- instances ------------------------------------------------------------------


class InstanceNotFound(NotFound):
    message = "service instance not found"


class InvalidInstanceName(Invalid):
    message = "invalid service instance name"


class InstanceExists(Conflict):
    message = "instance name already exists."


class TeamMandatory(Invalid):
    message = "please specify the team that owns the service instance"


class NothingToUpdate(Invalid):
    message = (
        "Neither description, team owner, tags, plan nor plan parameters were set. "
        "You must define at least one."
    )


class RegularInstanceInPool(Invalid):
    message = "regular (non-multi-cluster) service instance cannot belong to a pool"


class MultiClusterNeedsPool(Invalid):
    message = "multi-cluster service instance requires a pool"


class PoolNotFound(Invalid):
    message = "Pool does not exist."


class InstanceTeamNotFound(NotFound):
    message = "team not found"


class RevokeOwner(Invalid):
    message = "cannot revoke the instance's team owner access"


class InstanceBound(Invalid):
    def __init__(self, instance: str, apps: list[str]) -> None:
        super().__init__(
            f'Applications bound to the service "{instance}": "{",".join(apps)}"\n: '
            "This service instance is bound to at least one app. Unbind them before removing it"
        )


class StatusFailed(ServerError):
    def __init__(self, cause: str) -> None:
        super().__init__(f"Could not retrieve status of service instance, error: {cause}")


# --- binds ----------------------------------------------------------------------


class AppNotFound(NotFound):
    def __init__(self, app: str) -> None:
        super().__init__(f"App {app} not found.")


class AppAlreadyBound(Invalid):
    message = "app is already bound to this service instance"


class AppNotBound(Invalid):
    message = "app is not bound to this service instance"


class PoolHasNoService(Invalid):
    message = "no service found for pool"


class ServiceNotInPool(Invalid):
    def __init__(self, service: str, pool: str, allowed: list[str]) -> None:
        # tsuru formats the joined list with %q: one pair of quotes around all names.
        super().__init__(
            f'service "{service}" is not available for pool "{pool}". '
            f'Available services are: "{", ".join(allowed)}"'
        )


class ProxyForbidden(Invalid):
    def __init__(self, method: str, path: str) -> None:
        super().__init__(f'proxy request {method} "{path}" is forbidden')


# --- service APIs and brokers ------------------------------------------------------


class ServiceApiError(ServerError):
    """A service API or broker call failed; the text names what failed (tsuru's words)."""


class InstanceNotFoundInApi(ServiceApiError):
    message = "instance does not exist in the service API"


class InstanceExistsInApi(ServiceApiError):
    message = "instance already exists in the service API"


class InstanceNotReady(ServiceApiError):
    message = "instance is not ready yet"


class BrokerNotFound(NotFound):
    message = "service broker not found"


class InvalidBrokerUrl(Invalid):
    """Tsubame validates broker URLs (tsuru stores any text)."""

    def __init__(self, url: str, why: str) -> None:
        super().__init__(f"invalid broker URL {_quoted(url)}: {why}")


class BrokerExists(Conflict):
    message = "Broker already exists."


class InvalidBrokerData(ServiceApiError):
    message = "Invalid broker data"


class InvalidPlan(Invalid):
    def __init__(self, plan: str) -> None:
        super().__init__(f"invalid plan: {plan}")


class NoBrokerProxy(Invalid):
    message = "service proxy is not available for broker services"
