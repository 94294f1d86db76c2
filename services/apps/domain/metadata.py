"""App metadata rules (tsuru's types/app/metadata.go): kubernetes name syntax, the
private ``tsuru.io/`` prefix, item updates by name with ``delete``."""

from __future__ import annotations

import re
from dataclasses import dataclass

from services.apps.domain.models import Metadata, MetadataItem
from shared.errors import Invalid

PRIVATE = "tsuru.io/"
_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_PREFIX = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_NAME_MSG = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start "
    "and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', "
    "regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)
ANNOTATIONS_LIMIT = 256 * 1024


@dataclass(frozen=True)
class ItemChange:
    name: str
    value: str = ""
    delete: bool = False


def _qualified(name: str) -> list[str]:
    """Kubernetes' IsQualifiedName messages for ``name`` (none when valid)."""
    prefix, _, part = name.rpartition("/")
    msgs = []
    if "/" in name and not prefix:
        msgs.append("prefix part must be non-empty")
    elif prefix and (len(prefix) > 253 or _PREFIX.match(prefix) is None):
        msgs.append("prefix part a lowercase RFC 1123 subdomain must consist of lower case "
                    "alphanumeric characters, '-' or '.', and must start and end with an "
                    "alphanumeric character")  # fmt: skip
    if not part:
        msgs.append("name part must be non-empty")
    elif len(part) > 63:
        msgs.append("name part must be no more than 63 characters")
    elif _NAME.match(part) is None:
        msgs.append(_NAME_MSG)
    return msgs


def validate(labels: list[ItemChange], annotations: list[ItemChange]) -> None:
    problems: list[str] = []
    size = 0
    for item in annotations:
        if item.delete:
            continue
        if item.name.startswith(PRIVATE):
            problems.append("prefix tsuru.io/ is private")
        problems += [f'metadata.annotations: Invalid value: "{item.name}": {m}'
                     for m in _qualified(item.name.lower())]  # fmt: skip
        size += len(item.name) + len(item.value)
    if size > ANNOTATIONS_LIMIT:
        problems.append(
            f"metadata.annotations: Too long: must have at most {ANNOTATIONS_LIMIT} bytes"
        )
    for item in labels:
        if item.delete:
            continue
        if item.name.startswith(PRIVATE):
            problems.append("prefix tsuru.io/ is private")
        problems += [f'metadata.labels: Invalid value: "{item.name}": {m}'
                     for m in _qualified(item.name)]  # fmt: skip
        if len(item.value) > 63 or (item.value and _NAME.match(item.value) is None):
            problems.append(f'metadata.labels: Invalid value: "{item.value}": a valid label must '
                            "be an empty string or consist of alphanumeric characters, '-', '_' "
                            "or '.', and must start and end with an alphanumeric character")  # fmt: skip
    if len(problems) == 1:
        raise Invalid(problems[0])
    if problems:
        listed = "\n".join(f"error #{i}: {p}" for i, p in enumerate(problems))
        raise Invalid(f"multiple errors reported ({len(problems)}):\n{listed}")


def _apply(items: list[MetadataItem], changes: list[ItemChange]) -> list[MetadataItem]:
    out = list(items)
    for change in changes:
        out = [i for i in out if i.name != change.name]
        if not change.delete:
            out.append(MetadataItem(change.name, change.value))
    return out


def updated(current: Metadata, labels: list[ItemChange], annotations: list[ItemChange]) -> Metadata:
    return Metadata(_apply(current.labels, labels), _apply(current.annotations, annotations))
