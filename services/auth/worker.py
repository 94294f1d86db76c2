"""The auth worker: no consumers yet (``python -m services.auth.worker``)."""

from __future__ import annotations

import sys

from services.auth.settings import AuthSettings
from shared.logs import configure as configure_logging
from shared.worker import run_worker


def main() -> int:
    settings = AuthSettings.from_env()
    return run_worker("auth", [], settings.base)


if __name__ == "__main__":
    configure_logging("auth-worker")
    sys.exit(main())
