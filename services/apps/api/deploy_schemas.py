"""Inputs and answers of the deploy family and unit routes, for the OpenAPI document.

Views read their input through ``shared.http.inputs`` (tsuru's form-or-JSON rules);
these schemas only describe it. Answer shapes use tsuru's casing: capitalised Go
field names for deploy data and node status results, lower case for autoscale specs.
"""

from __future__ import annotations

from marshmallow import Schema, fields


class DeployInput(Schema):
    archive_url = fields.String(
        data_key="archive-url", metadata={"description": "URL of a tarball"}
    )
    image = fields.String(metadata={"description": "deploy a prebuilt image"})
    build = fields.String(metadata={"description": "with a file: build it (uploadbuild)"})
    origin = fields.String(
        metadata={"enum": ["app-deploy", "git", "rollback", "drag-and-drop", "image", "rebuild"]}
    )
    message = fields.String()
    commit = fields.String(metadata={"description": "app tokens only"})
    user = fields.String(metadata={"description": "app tokens only"})
    new_version = fields.String(data_key="new-version")
    override_versions = fields.String(data_key="override-versions")


class BuildInput(DeployInput):
    tag = fields.String(required=True)


class RollbackInput(Schema):
    image = fields.String(required=True, metadata={"description": "image, vN or N"})
    origin = fields.String()
    new_version = fields.String(data_key="new-version")
    override_versions = fields.String(data_key="override-versions")


class RollbackUpdateInput(Schema):
    image = fields.String(required=True)
    disable = fields.String(required=True, metadata={"description": "true or false"})
    reason = fields.String()


class RebuildInput(Schema):
    origin = fields.String(required=True)
    new_version = fields.String(data_key="new-version")
    override_versions = fields.String(data_key="override-versions")


class DeployListQuery(Schema):
    app = fields.String()
    skip = fields.String()
    limit = fields.String()


class DeployData(Schema):
    ID = fields.String(required=True)
    App = fields.String(required=True)
    Timestamp = fields.String(required=True)
    Duration = fields.Integer(required=True, metadata={"description": "nanoseconds"})
    Commit = fields.String(required=True)
    Error = fields.String(required=True)
    Image = fields.String(required=True)
    Version = fields.Integer(required=True)
    Log = fields.String(required=True)
    User = fields.String(required=True)
    Origin = fields.String(required=True)
    CanRollback = fields.Boolean(required=True)
    Diff = fields.String(required=True)
    Message = fields.String(required=True)


class UnitsInput(Schema):
    units = fields.String(required=True, metadata={"description": "a positive integer"})
    process = fields.String()
    version = fields.String()


class ProcessInput(Schema):
    process = fields.String()
    version = fields.String()


class SleepInput(ProcessInput):
    proxy = fields.String(required=True)


class RunInput(Schema):
    command = fields.String(required=True)
    once = fields.String()
    isolated = fields.String()


class AutoscaleProcessQuery(Schema):
    process = fields.String()


class AutoscaleSpec(Schema):
    process = fields.String(load_default="")
    minUnits = fields.Integer(load_default=0, strict=False)  # noqa: N815 - tsuru's key
    maxUnits = fields.Integer(load_default=0, strict=False)  # noqa: N815
    averageCPU = fields.String(load_default="")  # noqa: N815
    version = fields.Integer(load_default=0, strict=False)


class AutoscaleInfo(Schema):
    process = fields.String(required=True)
    minUnits = fields.Integer(required=True)  # noqa: N815
    maxUnits = fields.Integer(required=True)  # noqa: N815
    averageCPU = fields.String(required=True)  # noqa: N815
    version = fields.Integer(required=True)


class NodeUnit(Schema):
    ID = fields.String()
    Name = fields.String()
    Status = fields.String()


class NodeCheck(Schema):
    Name = fields.String()
    Err = fields.String()
    Successful = fields.Boolean()


class NodeStatusInput(Schema):
    Addrs = fields.List(fields.String(), load_default=list)
    Units = fields.List(fields.Nested(NodeUnit), load_default=list)
    Checks = fields.List(fields.Nested(NodeCheck), load_default=list)


class UnitFound(Schema):
    ID = fields.String(required=True)
    Found = fields.Boolean(required=True)


class ShellQuery(Schema):
    unit = fields.String(metadata={"description": "unit id (default: the first unit)"})
    isolated = fields.String(metadata={"description": "true: a fresh isolated unit"})
    width = fields.String()
    height = fields.String()
    term = fields.String()
