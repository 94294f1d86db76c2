"""Response shapes of the infrastructure routes (nodes, healing, autoscale, node
containers, clusters, volumes, IaaS, install hosts), for the OpenAPI document only."""

from __future__ import annotations

from marshmallow import Schema, fields

ANY_OBJECT = {"type": "object", "additionalProperties": True}


def _map(**kw: object) -> fields.Dict:
    return fields.Dict(keys=fields.String(), values=fields.String(), **kw)  # type: ignore[arg-type]


class NodeSpec(Schema):
    Address = fields.String(required=True)
    IaaSID = fields.String(required=True)
    Metadata = _map(required=True, allow_none=True)
    Status = fields.String(required=True)
    Pool = fields.String(required=True)
    Provisioner = fields.String(required=True)


class MachineInfo(Schema):
    Id = fields.String(required=True)
    Iaas = fields.String(required=True)
    Status = fields.String(required=True)
    Address = fields.String(required=True)
    Port = fields.Integer(required=True)
    Protocol = fields.String(required=True)
    CreationParams = _map(required=True, allow_none=True)


class NodeList(Schema):
    nodes = fields.List(fields.Nested(NodeSpec), required=True, allow_none=True)
    machines = fields.List(fields.Nested(MachineInfo), required=True, allow_none=True)


class Check(Schema):
    Name = fields.String(required=True)
    Err = fields.String(required=True)
    Successful = fields.Boolean(required=True)


class CheckBatch(Schema):
    Time = fields.String(required=True)
    Checks = fields.List(fields.Nested(Check), required=True, allow_none=True)


class NodeStatus(Schema):
    Address = fields.String(required=True)
    Checks = fields.List(fields.Nested(CheckBatch), required=True, allow_none=True)
    LastSuccess = fields.String(required=True)
    LastUpdate = fields.String(required=True)


UNIT = {"type": "object", "additionalProperties": True,
        "description": "tsuru's Unit object (apps.md §1.3)"}  # fmt: skip
UNITS = {"type": "array", "items": UNIT}


class NodeInfo(Schema):
    node = fields.Nested(NodeSpec, required=True)
    status = fields.Nested(NodeStatus, required=True)
    units = fields.List(fields.Dict(), required=True, allow_none=True)


_NULLABLE_BOOL = {"type": "boolean", "nullable": True}
_NULLABLE_INT = {"type": "integer", "nullable": True}
HEALING = {
    "type": "object",
    "description": "pool (\"\" = the base) -> its node healing config",
    "additionalProperties": {
        "type": "object",
        "properties": {
            "Enabled": _NULLABLE_BOOL, "MaxTimeSinceSuccess": _NULLABLE_INT,
            "MaxUnresponsiveTime": _NULLABLE_INT, "EnabledInherited": {"type": "boolean"},
            "MaxTimeSinceSuccessInherited": {"type": "boolean"},
            "MaxUnresponsiveTimeInherited": {"type": "boolean"},
        },
    },
}  # fmt: skip


class HealingEventInfo(Schema):
    ID = fields.String(required=True)
    StartTime = fields.String(required=True)
    EndTime = fields.String(required=True)
    Action = fields.String(required=True)
    Reason = fields.String(required=True)
    Extra = fields.Raw(required=True, allow_none=True)
    FailingNode = fields.Dict(required=True)
    CreatedNode = fields.Dict(required=True)
    FailingContainer = fields.Dict(required=True)
    CreatedContainer = fields.Dict(required=True)
    Successful = fields.Boolean(required=True)
    Error = fields.String(required=True)


class AutoscaleConfig(Schema):
    WaitTimeNewMachine = fields.Integer(required=True)
    RunInterval = fields.Integer(required=True)
    TotalMemoryMetadata = fields.String(required=True)
    Enabled = fields.Boolean(required=True)


class AutoscaleRuleInfo(Schema):
    MetadataFilter = fields.String(required=True)
    Error = fields.String(required=True)
    MaxContainerCount = fields.Integer(required=True)
    ScaleDownRatio = fields.Float(required=True)
    MaxMemoryRatio = fields.Float(required=True)
    Enabled = fields.Boolean(required=True)
    PreventRebalance = fields.Boolean(required=True)


class AutoscaleEventInfo(Schema):
    ID = fields.String(required=True)
    MetadataValue = fields.String(required=True)
    Action = fields.String(required=True)
    Reason = fields.String(required=True)
    StartTime = fields.String(required=True)
    EndTime = fields.String(required=True)
    Successful = fields.Boolean(required=True)
    Error = fields.String(required=True)
    Node = fields.Dict(required=True)
    Log = fields.String(required=True)
    Nodes = fields.List(fields.Dict(), required=True, allow_none=True)


CONFIG_POOLS = {"type": "object", "additionalProperties": ANY_OBJECT}


class NodeContainerListed(Schema):
    Name = fields.String(required=True)
    ConfigPools = fields.Dict(keys=fields.String(), values=fields.Dict(), required=True)


LOG_CONFIGS = {
    "type": "object",
    "description": "pool (\"\" = the base) -> its docker log config",
    "additionalProperties": {
        "type": "object",
        "properties": {
            "Driver": {"type": "string"},
            "LogOpts": {"type": "object", "nullable": True,
                        "additionalProperties": {"type": "string"}},
        },
    },
}  # fmt: skip


class ClusterInfo(Schema):
    name = fields.String(required=True)
    addresses = fields.List(fields.String(), required=True, allow_none=True)
    provisioner = fields.String(required=True)
    cacert = fields.String(required=True, allow_none=True)
    clientcert = fields.String(required=True, allow_none=True)
    clientkey = fields.String(required=True, allow_none=True)
    pools = fields.List(fields.String(), required=True, allow_none=True)
    custom_data = _map(required=True, allow_none=True)
    local = fields.Boolean(required=True)
    default = fields.Boolean(required=True)
    kubeConfig = fields.Dict()
    httpProxy = fields.String()


class ClusterHelp(Schema):
    provisioner_help = fields.String(required=True)
    custom_data_help = _map(required=True, allow_none=True)


class ProvisionerInfo(Schema):
    name = fields.String(required=True)
    cluster_help = fields.Nested(ClusterHelp, required=True)


class VolumePlanInfo(Schema):
    Name = fields.String(required=True)
    Opts = fields.Dict(required=True, allow_none=True)


class BindIDInfo(Schema):
    App = fields.String(required=True)
    MountPoint = fields.String(required=True)
    Volume = fields.String(required=True)


class BindInfo(Schema):
    ID = fields.Nested(BindIDInfo, required=True)
    ReadOnly = fields.Boolean(required=True)


class VolumeInfo(Schema):
    Name = fields.String(required=True)
    Pool = fields.String(required=True)
    Plan = fields.Nested(VolumePlanInfo, required=True)
    TeamOwner = fields.String(required=True)
    Status = fields.String(required=True)
    Binds = fields.List(fields.Nested(BindInfo), required=True, allow_none=True)
    Opts = _map(required=True, allow_none=True)


VOLUME_PLANS = {
    "type": "object",
    "description": "provisioner -> its volume plans",
    "additionalProperties": {
        "type": "array",
        "items": {"type": "object", "properties": {
            "Name": {"type": "string"}, "Opts": {"type": "object", "nullable": True},
        }},
    },
}  # fmt: skip


class TemplateEntryInfo(Schema):
    Name = fields.String(required=True)
    Value = fields.String(required=True)


class TemplateInfo(Schema):
    Name = fields.String(required=True)
    IaaSName = fields.String(required=True)
    Data = fields.List(fields.Nested(TemplateEntryInfo), required=True, allow_none=True)


class InstallHostInfo(Schema):
    Name = fields.String(required=True)
    Driver = fields.Dict(required=True, allow_none=True)
    DriverName = fields.String(required=True)
    SSHPrivateKey = fields.String(required=True)
    CaCert = fields.String(required=True)
    CaPrivateKey = fields.String(required=True)
