"""One merge rule, two forms: `record_merge` (Python, SQLite's upsert) and `MERGE_SET_SQL` (PostgreSQL's
upsert) give the same row for the same cases: the record, `sort_at` and `parent_key`.

Each case is an old record and a newer crawl of it, upserted one after the other by the hub's own code
in a process on a fresh database of each engine; what the database holds and what the upsert returns
must both be `record_merge(old, new)` with the columns `row_columns` reads from it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from imhub.processes import manage
from tests.support.processes import base_env

Record = dict[str, Any]
AUTHOR: Record = {"id": "u1", "nickname": "甲"}
COMMENT: Record = {
    "comment_id": "c1",
    "content_id": "w1",
    "text": "旧",
    "likes": 3,
    "author": AUTHOR,
    "created_at": 1000,
}
# (kind, old, new): what a newer crawl may bring
CASES: list[tuple[str, Record, Record]] = [
    ("comments", COMMENT, {**COMMENT, "text": None, "likes": None}),  # None never erases
    ("comments", COMMENT, {"comment_id": "c1", "text": "新"}),  # absent keys are kept
    ("comments", COMMENT, {**COMMENT, "reply_to_reply_id": None}),  # a new key comes in, None too
    ("comments", COMMENT, {**COMMENT, "author": {"id": "u1", "nickname": None}}),  # nested: one value
    ("comments", COMMENT, {**COMMENT, "content_id": None, "created_at": None}),  # columns kept
    ("comments", COMMENT, {**COMMENT, "content_id": "", "created_at": 2000}),  # an empty parent is a value
    ("comments", COMMENT, {**COMMENT, "content_id": "w2"}),  # a moved parent
    (
        "conversations",
        {"conversation_id": "v1", "peer": AUTHOR, "last_message_at": 5},
        {"conversation_id": "v1", "peer": AUTHOR, "last_message_at": None, "preview": "好"},
    ),
    (
        "messages",
        {"message_id": "m1", "conversation_id": "v1", "text": "a", "created_at": 7},
        {"message_id": "m1", "conversation_id": "v2", "text": None, "created_at": 8},
    ),
]

SCRIPT = """
import json
from django.db import transaction
from accounts.models import Account
from datasync.models import Entity
from datasync.persistence import entities_upsert
from datasync.protocol import ENTITY_ID_FIELDS
out = []
for kind, old, new in json.loads(CASES):
    account = Account.objects.create(nickname="merge")
    with transaction.atomic():
        entities_upsert(account_id=account.id, upserts={kind: [old]})
    with transaction.atomic():
        returned = entities_upsert(account_id=account.id, upserts={kind: [new]})[kind]
    row = Entity.objects.get(account_id=account.id, kind=kind, platform_id=new[ENTITY_ID_FIELDS[kind]])
    out.append({"returned": returned, "record": row.record, "sort_at": row.sort_at, "parent_key": row.parent_key})
print(json.dumps(out))
"""


def test_the_database_merges_as_record_merge_does(engine_database_url: str, tmp_path: Path) -> None:
    from datasync.persistence.merge import record_merge, row_columns

    # given a fresh database of the engine
    env = base_env(DATABASE_URL=engine_database_url, IMHUB_VAR_DIR=str(tmp_path / "var"))
    manage("migrate", "--noinput", "-v", "0", env=env)

    # when every case's old and new records are upserted in turn
    code = SCRIPT.replace("CASES", repr(json.dumps(CASES)))
    got = json.loads(manage("shell", "-c", code, env=env).strip().splitlines()[-1])

    # then the row and the upsert's answer are the Python rule's, case by case
    for (kind, old, new), row in zip(CASES, got, strict=True):
        merged = record_merge(old=dict(old), new=dict(new))
        sort_at, parent = row_columns(kind=kind, record=merged)
        assert row == {"returned": [merged], "record": merged, "sort_at": sort_at, "parent_key": parent}, (
            kind,
            new,
        )
