"""Errors of the provisioner's infrastructure routes (clusters, volumes, IaaS, install
hosts, nodes, healing, autoscale, node containers, docker), with tsuru 1.11's texts;
``errors`` re-exports them so callers name every error as ``errors.<Name>``."""

from __future__ import annotations

from shared.errors import Conflict, Gone, Invalid, NotFound, ServerError
from shared.golang.strconv import quote

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


class UnreadableLogDriver(Invalid):
    """A docker log driver whose logs the engine cannot give back (the app log is read
    from the engine): refused rather than silently losing the app's log."""

    def __init__(self, driver: str, readable: list[str]) -> None:
        super().__init__(
            f'log driver "{driver}" is not supported: the app log is read back from the '
            f"docker engine, which cannot read {driver} logs; use {', '.join(readable)} "
            "(or bs: the engine's default)"
        )


class UnknownLogOpt(Invalid):
    def __init__(self, opt: str, driver: str, known: list[str]) -> None:
        super().__init__(
            f'log option "{opt}" is not supported by the {driver} log driver '
            f"(options: {', '.join(known)})"
        )
