"""The auth worker: no consumers yet (``python -m services.auth.worker``)."""

from __future__ import annotations

import sys

from services.auth.settings import AuthSettings
from shared.worker import run_worker


def main() -> int:
    settings = AuthSettings.from_env()
    return run_worker("auth", [], settings.base)


if __name__ == "__main__":
    sys.exit(main())
