"""Reading a query plan (``explain``) in tests: which stages it holds."""

from __future__ import annotations

from typing import Any


def stages(plan: Any) -> list[str]:
    """Every ``stage`` named anywhere in an explain document, outermost first (a
    collection scan shows as ``COLLSCAN``, an index walk as ``IXSCAN``)."""
    if isinstance(plan, dict):
        own = [plan["stage"]] if "stage" in plan else []
        return own + [s for v in plan.values() for s in stages(v)]
    if isinstance(plan, list):
        return [s for v in plan for s in stages(v)]
    return []
