"""In-memory TLS certificates (the fake held to the Mongo store's contract)."""

from __future__ import annotations

import threading

from services.apps.domain.models import Certificate


class MemoryCertificateStore:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.items: dict[str, tuple[str, Certificate]] = {}

    def put(self, app: str, cert: Certificate) -> None:
        with self.lock:
            self.items[cert.cname] = (app, cert)

    def of_app(self, app: str) -> dict[str, Certificate]:
        with self.lock:
            return {n: c for n, (a, c) in self.items.items() if a == app}

    def get(self, cname: str) -> tuple[str, Certificate] | None:
        return self.items.get(cname)

    def remove(self, app: str, cname: str) -> bool:
        with self.lock:
            if self.items.get(cname, ("", None))[0] != app:
                return False
            del self.items[cname]
            return True

    def remove_app(self, app: str) -> None:
        with self.lock:
            for n in [n for n, (a, _) in self.items.items() if a == app]:
                del self.items[n]

    def all(self) -> list[tuple[str, Certificate]]:
        with self.lock:
            return list(self.items.values())
