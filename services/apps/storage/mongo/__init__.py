"""MongoDB stores of the apps context (database ``<namespace>_apps``). Natural keys
are ``_id`` (app name, cname), so uniqueness races end in DuplicateKeyError, mapped to
the domain's errors. Every field a query filters on is indexed."""

from __future__ import annotations

from services.apps.storage.mongo import apps, certificates, deploys, logs, versions
from services.apps.storage.ports import Stores
from shared.mongo import Db, Index

INDEXES: list[Index] = [*apps.INDEXES, *versions.INDEXES, *deploys.INDEXES, *logs.INDEXES,
                        *certificates.INDEXES]  # fmt: skip


def mongo_stores(db: Db, *, log_max_lines: int = 10_000) -> Stores:
    return Stores(
        apps=apps.MongoAppStore(db),
        cnames=apps.MongoCnameStore(db),
        versions=versions.MongoVersionStore(db),
        deploys=deploys.MongoDeployStore(db),
        logs=logs.MongoLogStore(db, log_max_lines),
        certificates=certificates.MongoCertificateStore(db),
    )
