"""Errors of the provisioner context, with tsuru 1.11's exact message texts
(provisioning.md §3). tsuru answers many business errors with 500: where the seed lists
a 4xx for the route we answer it (docs/compatibility.md says which)."""

from __future__ import annotations

from shared.errors import Conflict, Forbidden, Invalid, NotFound, ServerError

# --- pools and constraints ---------------------------------------------------


class PoolNotFound(NotFound):
    message = "Pool does not exist."


class PoolExists(Conflict):
    message = "Pool already exists."


class DefaultPoolExists(Conflict):
    message = "Default pool already exists."


class PoolNameRequired(Invalid):
    message = "Pool name is required."


class InvalidPoolName(Invalid):
    message = (
        "Invalid pool name, pool name should have at most 40 characters, containing only "
        "lower case letters, numbers or dashes, starting with a letter."
    )


class PoolHasApps(Forbidden):
    message = "This pool has apps, you need to migrate or remove them before removing the pool"


class InvalidConstraintType(Invalid):
    message = "invalid constraint type. Valid types are: [team service router plan volume-plan]"


class PoolExpressionRequired(Invalid):
    message = "You must provide a Pool Expression"


# --- plans -------------------------------------------------------------------


class PlanNotFound(NotFound):
    message = "plan not found"


class PlanExists(Conflict):
    message = "plan already exists"


# --- platforms ---------------------------------------------------------------


class PlatformNotFound(NotFound):
    message = "Platform doesn't exist."


class PlatformExists(Conflict):
    message = "Duplicate platform"


class InvalidPlatform(Invalid):
    message = "Invalid platform"


# --- routers -----------------------------------------------------------------


class DynamicRouterNotFound(NotFound):
    message = "dynamic router not found"


class DynamicRouterExists(Conflict):
    message = "dynamic router already exists"


# --- nodes -------------------------------------------------------------------


class NodeNotFound(NotFound):
    message = "node not found"


class NodeExists(Conflict):
    def __init__(self, address: str, provisioner: str) -> None:
        super().__init__(
            f'node with address "{address}" already exists in provisioner "{provisioner}"'
        )


class StorageError(ServerError):
    """A stored document the code cannot read (never expected; logged by the handler)."""
