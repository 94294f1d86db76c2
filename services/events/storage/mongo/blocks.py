"""Event blocks (collection ``event_blocks``; recorders read the active ones)."""

from __future__ import annotations

from datetime import datetime

from bson import ObjectId
from pymongo import DESCENDING

from shared.events import BLOCKS, Block
from shared.events import documents as d
from shared.mongo import Db


class MongoBlockStore:
    def __init__(self, db: Db) -> None:
        self.col = db[BLOCKS]

    def list(self, active: bool | None) -> list[Block]:
        query = {} if active is None else {d.BLOCK_ACTIVE: active}
        cursor = self.col.find(query).sort([(d.BLOCK_START_TIME, DESCENDING)])
        return [d.block_from_doc(doc) for doc in cursor]

    def add(self, block: Block) -> None:
        self.col.insert_one(d.block_to_doc(block))

    def deactivate(self, block_id: ObjectId, when: datetime) -> bool:
        result = self.col.update_one(
            {"_id": block_id, d.BLOCK_ACTIVE: True},
            {"$set": {d.BLOCK_ACTIVE: False, d.BLOCK_END_TIME: when}},
        )
        return result.modified_count == 1
