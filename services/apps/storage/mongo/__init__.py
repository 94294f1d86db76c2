"""MongoDB stores of the apps context (database ``<namespace>_apps``). Natural keys
are ``_id`` (app name, cname), so uniqueness races end in DuplicateKeyError, mapped to
the domain's errors. Every field a query filters on is indexed."""

from __future__ import annotations

from services.apps.storage.mongo import apps, deploys, versions
from services.apps.storage.ports import Stores
from shared.mongo import Db, Index

INDEXES: list[Index] = [*apps.INDEXES, *versions.INDEXES, *deploys.INDEXES]


def mongo_stores(db: Db) -> Stores:
    return Stores(
        apps=apps.MongoAppStore(db),
        cnames=apps.MongoCnameStore(db),
        versions=versions.MongoVersionStore(db),
        deploys=deploys.MongoDeployStore(db),
    )
