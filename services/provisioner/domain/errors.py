"""Errors of the provisioner context, with tsuru 1.11's exact message texts
(provisioning.md §3). tsuru answers many business errors with 500: where the seed lists
a 4xx for the route we answer it (docs/compatibility.md says which)."""

from __future__ import annotations

from shared.errors import Conflict, Forbidden, Invalid, NotFound, ServerError
from shared.golang.strconv import quote

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


class PlatformExists(Invalid):
    """tsuru 1.11 answers 500; the seed lists 400 for POST /platforms."""

    message = "Duplicate platform"


class InvalidPlatform(Invalid):
    message = "Invalid platform"


class PlatformNameRequired(Invalid):
    message = "Platform name is required."


class InvalidPlatformName(Invalid):
    message = (
        "Invalid platform name, should have at most 40 characters, containing only lower "
        "case letters, numbers or dashes, starting with a letter."
    )


class NotMultipart(Invalid):
    message = "request Content-Type isn't multipart/form-data"


class NoDockerfile(Invalid):
    message = "http: no such file"


class MissingFileContent(Invalid):
    message = "Missing file content."


class DockerfileTooLarge(Invalid):
    def __init__(self, limit: int) -> None:
        super().__init__(f"the Dockerfile is too large: at most {limit} bytes are accepted")


class PlatformHasApps(Invalid):
    """tsuru 1.11 answers 500; a client's mistake: 400."""

    message = "Platform has apps. You must remove them before remove the platform."


class RollbackWithoutImage(Invalid):
    message = "you cannot rollback without an image name"


class InvalidImageVersion(Invalid):
    def __init__(self, image: str) -> None:
        super().__init__(f"invalid image version {quote(image)}")


class PlatformVersionNotFound(NotFound):
    def __init__(self, platform: str, version: int) -> None:
        super().__init__(f'version {version} of platform "{platform}" not found')


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


class InvalidLabels(Invalid):
    """tsuru 1.11 answers 500 with the JSON error of an unparsable ``affinity`` label."""


class TeamRequired(Invalid):
    message = "You must provide the team."


class TeamRequiredToRemove(Invalid):
    message = "You must provide the team"  # tsuru 1.11: no final dot here


class BlacklistTeamsAdd(Invalid):
    message = "Unable to add teams to blacklist constraint"


class BlacklistTeamsRemove(Invalid):
    message = "Unable to remove teams from blacklist constraint"


class PublicPoolTeams(Invalid):
    message = "Public/Default pool can't have teams."


class TeamAlreadyInPool(Invalid):
    message = "Team already exists in pool."


class NoTeamConstraint(NotFound):
    message = "not found"


class NoRouterForPool(ServerError):
    message = "no router found for pool"


class PlanNameRequired(Invalid):
    """tsuru 1.11 answers 500; the seed lists 400 for a bad plan."""

    message = "invalid value for name"


class CpuShareTooLow(Invalid):
    message = "The minimum allowed cpu-shares is 2"


class MemoryTooLow(Invalid):
    message = "The minimum allowed memory is 4MB"


class InvalidDisabled(Invalid):
    """``disabled`` that strconv.ParseBool refuses (tsuru 1.11: 500 with its text)."""


class BuildCanceled(ServerError):
    message = "canceled by user request"


class RouterNameTypeRequired(Invalid):
    """tsuru 1.11 answers 500; the seed lists 400 (invalid router)."""

    message = "dynamic router name and type are required"


class RouterTypeNotRegistered(Invalid):
    def __init__(self, kind: str) -> None:
        super().__init__(f"router type {quote(kind)} is not registered")


class RouterInConfig(Invalid):
    def __init__(self, name: str) -> None:
        super().__init__(f"router named {quote(name)} already exists in config")


# --- placement (apps.md §2.3): tsuru's texts; client mistakes answer 400 ---------


class PlacementError(Invalid):
    """A pool, plan, router or platform an app cannot have."""


class TeamNotFound(PlacementError):
    message = "team not found"


class ChoosePool(PlacementError):
    def __init__(self, pools: list[str]) -> None:
        names = ",".join(quote(p) for p in pools)
        super().__init__(f"you have access to {names} pools. Please choose one in app creation")


class UnknownPool(PlacementError):
    message = "Pool does not exist."


class UnknownPlan(PlacementError):
    message = "plan not found"


class NoDefaultPlan(PlacementError):
    message = "default plan not found"


class UnknownRouter(PlacementError):
    def __init__(self, name: str) -> None:
        super().__init__(f"router {quote(name)} not found")


class NoDefaultRouter(PlacementError):
    message = "No default router found"


class PlatformImageNotFound(PlacementError):
    message = "Platform image not found"


class TeamNotInPool(PlacementError):
    def __init__(self, team: str, pool: str) -> None:
        super().__init__(f"App team owner {quote(team)} has no access to pool {quote(pool)}")


class RouterNotInPool(PlacementError):
    def __init__(self, router: str, pool: str, available: list[str]) -> None:
        super().__init__(
            f"router {quote(router)} is not available for pool {quote(pool)}. "
            f"Available routers are: {quote(', '.join(available))}"
        )


class PlanNotInPool(PlacementError):
    def __init__(self, plan: str, pool: str) -> None:
        super().__init__(f"App plan {quote(plan)} is not allowed on pool {quote(pool)}")


class NoRouterInPool(PlacementError):
    message = "no router found for pool"


class NoPlanInPool(PlacementError):
    message = "no plan found for pool"


# The infrastructure routes' errors live in their own module (size); callers name every
# error of the context as errors.<Name>.
from services.provisioner.domain.errors_infra import *  # noqa: E402, F403


class RuntimeFailed(ServerError):
    """A command of the provisioner's worker failed; its message as the worker said it."""


class RuntimeUnavailable(ServerError):
    message = "the provisioner's runtime cannot be reached from this process"


class MoveFailed(ServerError):
    """A unit move, rebalance or node removal that failed midway (tsuru's wording)."""
