"""Node container configs (provisioning.md §2j): Docker container-create objects with
go-dockerclient's key names, stored per (name, pool). Inputs name keys in any case
(``config.image``, ``HostConfig.Privileged``); they are stored in Go's spelling."""

from __future__ import annotations

from typing import Any

from services.provisioner.domain import errors

_CONFIG = (
    "Hostname Domainname User Memory MemorySwap MemoryReservation KernelMemory CPUShares "
    "CPUSet PortSpecs ExposedPorts PublishService StopSignal StopTimeout Env Cmd Shell "
    "Healthcheck DNS Image Volumes VolumeDriver WorkingDir MacAddress Entrypoint SecurityOpts "
    "OnBuild Mounts Labels AttachStdin AttachStdout AttachStderr ArgsEscaped Tty OpenStdin "
    "StdinOnce NetworkDisabled"
).split()
_HOST = (
    "Binds CapAdd CapDrop GroupAdd ContainerIDFile PortBindings Links DNS DNSOptions "
    "DNSSearch ExtraHosts VolumesFrom UsernsMode NetworkMode IpcMode Isolation PidMode "
    "UTSMode RestartPolicy Devices LogConfig SecurityOpt Cgroup CgroupParent Memory "
    "MemoryReservation KernelMemory MemorySwap MemorySwappiness CPUShares CPUSet CPUSetCPUs "
    "CPUSetMEMs CPUQuota CPUPeriod NanoCPUs BlkioWeight Ulimits OomScoreAdj PidsLimit "
    "OOMKillDisable ShmSize Tmpfs StorageOpt Sysctls Init Privileged PublishAllPorts "
    "ReadonlyRootfs AutoRemove Runtime"
).split()
_NESTED = {
    "Config": {k.lower(): k for k in _CONFIG},
    "HostConfig": {k.lower(): k for k in _HOST},
    "RestartPolicy": {"name": "Name", "maximumretrycount": "MaximumRetryCount"},
    "LogConfig": {"type": "Type", "config": "Config"},
}
_TOP = {"name": "Name", "pinnedimage": "PinnedImage", "disabled": "Disabled",
        "config": "Config", "hostconfig": "HostConfig"}  # fmt: skip
_BOOLS = {"Privileged", "PublishAllPorts", "ReadonlyRootfs", "AutoRemove", "Tty", "OpenStdin",
          "StdinOnce", "NetworkDisabled", "AttachStdin", "AttachStdout", "AttachStderr",
          "ArgsEscaped", "OOMKillDisable", "Init", "Disabled"}  # fmt: skip
_INTS = {"Memory", "MemorySwap", "MemoryReservation", "KernelMemory", "CPUShares", "CPUQuota",
         "CPUPeriod", "NanoCPUs", "BlkioWeight", "OomScoreAdj", "PidsLimit", "ShmSize",
         "MemorySwappiness", "MaximumRetryCount", "StopTimeout"}  # fmt: skip
_LISTS = {"Env", "Cmd", "Entrypoint", "Binds", "CapAdd", "CapDrop", "DNS", "DNSSearch",
          "ExtraHosts", "Links", "VolumesFrom", "SecurityOpt", "SecurityOpts", "GroupAdd",
          "Shell", "DNSOptions", "OnBuild", "PortSpecs"}  # fmt: skip
MAX_DEPTH = 8


def _value(key: str, value: Any) -> Any:
    if isinstance(value, str):
        if key in _BOOLS:
            if value.lower() in ("true", "1", "t"):
                return True
            if value.lower() in ("false", "0", "f", ""):
                return False
            raise errors.NodeContainerInvalid(f"{key}: invalid boolean {value!r}")
        if key in _INTS:
            try:
                return int(value)
            except ValueError:
                raise errors.NodeContainerInvalid(f"{key}: invalid number {value!r}") from None
        if key in _LISTS:
            return [value]
    return value


def canonical(raw: dict[str, Any], keys: dict[str, str] = _TOP, depth: int = 0) -> dict[str, Any]:
    """Keys in Go's spelling (unknown keys kept as given), values typed."""
    if depth > MAX_DEPTH:
        raise errors.NodeContainerInvalid("node container config nested too deep")
    out: dict[str, Any] = {}
    for key, value in raw.items():
        name = keys.get(str(key).lower(), str(key))
        sub = _NESTED.get(name)
        if (
            isinstance(value, dict)
            and sub is not None
            and not (name == "Config" and keys is _NESTED["LogConfig"])
        ):
            value = canonical(value, sub, depth + 1)
        out[name] = _value(name, value)
    return out


def image(config: dict[str, Any]) -> str:
    """The effective image: the pinned one, else ``Config.Image``."""
    inner = config.get("Config") or {}
    return str(
        config.get("PinnedImage") or (inner.get("Image") if isinstance(inner, dict) else "") or ""
    )


def merge(stored: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """tsuru's update: scalars and lists given replace, maps merge, ``Config.Env`` merges
    by variable name (the new value wins)."""
    out = dict(stored)
    for key, value in given.items():
        current = out.get(key)
        if key == "Env" and isinstance(current, list) and isinstance(value, list):
            merged = {str(e).partition("=")[0]: str(e) for e in current}
            merged.update({str(e).partition("=")[0]: str(e) for e in value})
            out[key] = list(merged.values())
        elif isinstance(current, dict) and isinstance(value, dict):
            out[key] = merge(current, value)
        else:
            out[key] = value
    return out


def shaped(name: str, config: dict[str, Any]) -> dict[str, Any]:
    """A stored config with tsuru's always-present keys."""
    inner = dict(config.get("Config") or {})
    inner.setdefault("Cmd", None)
    inner.setdefault("Entrypoint", None)
    return {
        "Name": name,
        "PinnedImage": config.get("PinnedImage", ""),
        "Disabled": config.get("Disabled"),
        "Config": inner,
        "HostConfig": dict(config.get("HostConfig") or {}),
        **{k: v for k, v in config.items()
           if k not in ("Name", "PinnedImage", "Disabled", "Config", "HostConfig")},
    }  # fmt: skip
