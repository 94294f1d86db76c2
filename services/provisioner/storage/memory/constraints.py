"""In-memory pool constraints store."""

from __future__ import annotations

from dataclasses import replace

from services.provisioner.domain.models import Constraint
from services.provisioner.storage.memory.common import Locked


def _empty(values: tuple[str, ...] | list[str]) -> bool:
    return not values or (len(values) == 1 and values[0] == "")


class MemoryConstraintStore(Locked):
    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], Constraint] = {}

    def get(self, pool_expr: str, field: str) -> Constraint | None:
        return self.items.get((field, pool_expr))

    def all(self) -> list[Constraint]:
        return list(self.items.values())

    def for_field(self, field: str) -> list[Constraint]:
        return [c for c in list(self.items.values()) if c.field == field]

    def set(self, constraint: Constraint) -> None:
        key = (constraint.field, constraint.pool_expr)
        with self.lock:
            if _empty(constraint.values):
                self.items.pop(key, None)
                return
            values = tuple(dict.fromkeys(constraint.values))
            self.items[key] = replace(constraint, values=values)

    def append(self, pool_expr: str, field: str, values: list[str]) -> None:
        key = (field, pool_expr)
        with self.lock:
            current = self.items.get(key) or Constraint(pool_expr, field, ())
            merged = tuple(dict.fromkeys([*current.values, *values]))
            self.items[key] = replace(current, values=merged)

    def remove_values(self, pool_expr: str, field: str, values: list[str]) -> bool:
        key = (field, pool_expr)
        with self.lock:
            current = self.items.get(key)
            if current is None:
                return False
            kept = tuple(v for v in current.values if v not in values)
            self.items[key] = replace(current, values=kept)
            return True

    def delete(self, pool_expr: str, field: str) -> bool:
        with self.lock:
            return self.items.pop((field, pool_expr), None) is not None
