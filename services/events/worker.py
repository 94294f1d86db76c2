"""Bus consumer process of the events context (skeleton: idles for now)."""

from __future__ import annotations

from services.events.settings import EventsSettings
from shared.worker import run_worker


def main() -> int:
    settings = EventsSettings.from_env()
    return run_worker("events", [], settings.base)


if __name__ == "__main__":
    raise SystemExit(main())
