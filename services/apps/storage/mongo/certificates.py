"""MongoDB storage of TLS certificates (collection ``certificates``, ``_id`` the name)."""

from __future__ import annotations

from typing import Any

from services.apps.domain.models import Certificate
from shared.mongo import Db, Index, asc

CERTIFICATES = "certificates"

INDEXES = [Index(CERTIFICATES, asc("app"))]


def _cert(d: dict[str, Any]) -> Certificate:
    return Certificate(d["_id"], d["certificate"], d["key"])


class MongoCertificateStore:
    def __init__(self, db: Db) -> None:
        self.c = db[CERTIFICATES]

    def put(self, app: str, cert: Certificate) -> None:
        doc = {"app": app, "certificate": cert.certificate, "key": cert.key}
        self.c.replace_one({"_id": cert.cname}, doc, upsert=True)

    def of_app(self, app: str) -> dict[str, Certificate]:
        return {d["_id"]: _cert(d) for d in self.c.find({"app": app})}

    def get(self, cname: str) -> tuple[str, Certificate] | None:
        d = self.c.find_one({"_id": cname})
        return (str(d["app"]), _cert(d)) if d is not None else None

    def remove(self, app: str, cname: str) -> bool:
        return self.c.delete_one({"_id": cname, "app": app}).deleted_count == 1

    def remove_app(self, app: str) -> None:
        self.c.delete_many({"app": app})

    def all(self) -> list[tuple[str, Certificate]]:
        return [(str(d["app"]), _cert(d)) for d in self.c.find()]
