"""Errors of the provisioner context, with tsuru 1.11's exact message texts
(provisioning.md §3). tsuru answers many business errors with 500: where the seed lists
a 4xx for the route we answer it (docs/compatibility.md says which)."""

from __future__ import annotations

from shared.errors import Conflict, Forbidden, Gone, Invalid, NotFound, ServerError
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


# --- clusters, volumes, iaas, install hosts ------------------------------------


class ClusterExists(Conflict):
    message = "cluster already exists"


class ClusterNotFound(NotFound):
    message = "cluster not found"


class InvalidContentType(Invalid):
    """tsuru 1.11 answers 500; the seed lists 400."""

    def __init__(self, value: str) -> None:
        super().__init__(f"Invalid Content-Type {quote(value)}")


class ClusterInvalid(Invalid):
    """A ValidationError of the cluster service (message given)."""


class ClusterPoolNotFound(NotFound):
    message = "Pool does not exist."


class ClusterUpdatePoolNotFound(Invalid):
    message = "Pool does not exist."


class VolumeExists(Conflict):
    message = "volume already exists"


class VolumeNotFound(NotFound):
    message = "volume not found"


class VolumeAlreadyBound(Conflict):
    message = "volume already bound in mountpoint"


class VolumeBindNotFound(NotFound):
    message = "volume bind not found"


class VolumeInvalid(Invalid):
    """Volume validation (message given)."""


class VolumeHasBinds(Invalid):
    """tsuru 1.11 answers 500; a client's mistake."""

    message = "cannot delete volume with existing binds"


class AppNotFoundForVolume(NotFound):
    def __init__(self, app: str) -> None:
        super().__init__(f"App {app} not found.")


class TemplateExists(Conflict):
    def __init__(self, name: str) -> None:
        super().__init__(f"template name {quote(name)} already used")


class TemplateNotFound(NotFound):
    message = "template not found"


class TemplateNameRequired(Invalid):
    message = "template name cannot be empty"


class IaasNotRegistered(Invalid):
    def __init__(self, name: str) -> None:
        super().__init__(f"IaaS provider {quote(name)} based on {quote(name)} not registered")


class MachineNotFound(NotFound):
    message = "machine not found"


class InstallHostExists(Conflict):
    def __init__(self, name: str) -> None:
        super().__init__(f"host {name} already exists")


class InstallHostNotFound(NotFound):
    def __init__(self, name: str) -> None:
        super().__init__(f"Host {name} not found.")


class InstallDriverInvalid(Invalid):
    """``driver`` that is not a JSON object (tsuru 1.11: 500 with the JSON error)."""


# --- nodes, healing, autoscale, node containers, docker ----------------------------


class AppNotFound(NotFound):
    message = "App not found"


class TemplateNotFoundForNode(Invalid):
    message = "not found"


class NodePoolRequired(Invalid):
    message = "pool is required"


class NodePoolNotFound(NotFound):
    """tsuru 1.11 answers 500; the seed lists 404 for POST /node."""

    message = "Pool does not exist."


class NoNodeOperations(Invalid):
    """tsuru 1.11 answers 500 for a provisioner that manages no nodes."""

    def __init__(self, provisioner: str) -> None:
        super().__init__(f"provisioner {quote(provisioner)} does not support node operations")


class NoRebalance(Invalid):
    def __init__(self, provisioner: str) -> None:
        super().__init__(
            f"provisioner {quote(provisioner)} does not support node rebalance operations"
        )


class RebalancePoolNotFound(Invalid):
    message = "Pool does not exist."


class NoIaaS(Invalid):
    """No IaaS is reachable: machines cannot be created (register nodes instead)."""

    def __init__(self, iaas: str) -> None:
        if iaas:
            super().__init__(f"IaaS provider {quote(iaas)} based on {quote(iaas)} not registered")
        else:
            super().__init__("no default iaas configured")


class NodeAddressInvalid(Invalid):
    """tsuru writes these as error lines of the node-add stream."""


class NodeAddressRequired(Invalid):
    message = "address is required"


class EnableAndDisable(Invalid):
    message = "A node can't be enabled and disabled simultaneously."


class CannotMoveUnits(ServerError):
    def __init__(self, count: int) -> None:
        super().__init__(
            f"{count} units would have to move to another node: the docker runtime does not "
            "move units between nodes yet (use no-rebalance=true to remove the node anyway)"
        )


class InvalidHealingFilter(Invalid):
    message = "invalid filter, possible values are 'node' or 'container'"


class HealingNotFound(NotFound):
    """tsuru 1.11 answers 500 ``not found`` when the pool has no healing entry."""

    message = "not found"


class RuleNotFound(NotFound):
    message = "rule not found"


class InvalidRule(Invalid):
    """A node autoscale rule that does not normalise (tsuru 1.11: 500)."""


class NodeContainerNotFound(NotFound):
    message = "node container not found"


class NodeContainerPoolNotFound(NotFound):
    def __init__(self, name: str, pool: str) -> None:
        super().__init__(f"node container {quote(name)} not found for pool {quote(pool)}")


class NodeContainerInvalid(Invalid):
    """``node container config name/image cannot be empty``."""


class UnitNotFound(NotFound):
    def __init__(self, unit: str) -> None:
        super().__init__(f"unit {quote(unit)} not found")


class NodeByHostNotFound(NotFound):
    def __init__(self, host: str) -> None:
        super().__init__(f"node with host {quote(host)} not found")


class InvalidMoveParams(Invalid):
    """``Invalid params: ...`` of the container move routes."""


class ProcessPoolDocker(Invalid):
    """A ``/docker/*`` operation on units or nodes of the process provisioner."""


class LogDriverRequired(Invalid):
    message = "log-driver is mandatory"


class BsLogOpts(Invalid):
    message = (
        "bs log-driver do not accept log-opts, please use node-container-update to configure it."
    )


class Deprecated(Gone):
    """tsuru 1.11's deprecated big-sibling routes (500 there)."""


class AutoscaleFailed(ServerError):
    """A run that decided something it could not do (the error line of the stream)."""


class InvalidHealingValue(Invalid):
    """A healing field that does not decode."""


class InvalidRestart(Invalid):
    """``restart`` that strconv.ParseBool refuses."""
