"""What a Docker API call may raise: the SDK's errors, and transport errors.

The SDK lets its HTTP library's connection and timeout errors through; those derive
from OSError, so ``API_ERRORS`` names no HTTP library (outbound clients stay behind the
SDK) and still catches a node that does not answer.
"""

from __future__ import annotations

import docker.errors

API_ERRORS = (docker.errors.DockerException, OSError)


def reason(exc: BaseException) -> str:
    """The engine's own explanation when it gave one, else the error's text."""
    return str(getattr(exc, "explanation", None) or exc)
