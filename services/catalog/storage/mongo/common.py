"""Helpers of the catalog's Mongo stores."""

from __future__ import annotations

import itertools
import time

_counter = itertools.count()


def seq() -> float:
    """Insertion order key: tsuru lists services, instances and brokers in storage order."""
    return time.time() + next(_counter) * 1e-9
