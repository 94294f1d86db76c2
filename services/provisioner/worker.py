"""Bus consumer process of the provisioner context (nothing to consume yet: it idles)."""

from __future__ import annotations

from shared.settings import Settings
from shared.worker import run_worker


def main() -> int:
    return run_worker("provisioner", [], Settings.from_env())


if __name__ == "__main__":
    raise SystemExit(main())
