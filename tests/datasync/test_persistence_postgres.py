"""The PostgreSQL upsert path (COPY into a temporary table, then one INSERT ... SELECT ... ON CONFLICT)
and the start-up load, run by the hub's own code in a process on a fresh PostgreSQL database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from imhub.processes import manage
from tests.support.processes import base_env

pytestmark = [pytest.mark.postgres]

SCRIPT = """
import json
from django.db import transaction
from accounts.models import Account
from datasync import persistence
from datasync.runtime import Runtime, Wiring
from datasync.store import DataStore
from tests.datasync.records import comment, conversation, message

out = {}
account = Account.objects.create(nickname="pg")
# comments and messages of one frame in one transaction: one staging pass per upsert call
with transaction.atomic():
    persistence.entities_upsert(
        account_id=account.id,
        upserts={
            "comments": [comment("k1", text="一"), comment("k2", likes=3)],
            "conversations": [conversation("v1")],
            "messages": [message("m1", conversation_id="v1")],
        },
    )
    # a second upsert in the same transaction merges with the first (None never erases; a key the
    # stored record lacks is kept, even as None), and returns the merged records
    applied = persistence.entities_upsert(
        account_id=account.id,
        upserts={"comments": [comment("k2", likes=None, text="二", reply_to_reply_id=None), comment("k9")]},
    )
    out["applied"] = [
        {k: r.get(k, "absent") for k in ("comment_id", "likes", "text", "reply_to_reply_id")}
        for r in applied["comments"]
    ]
# a transaction that fails after its upsert leaves nothing, and the next one still works
try:
    with transaction.atomic():
        persistence.entities_upsert(account_id=account.id, upserts={"comments": [comment("gone")]})
        raise RuntimeError("rolled back")
except RuntimeError:
    pass
with transaction.atomic():
    persistence.entities_upsert(account_id=account.id, upserts={"comments": [comment("k3")]})
    persistence.revision_bump(account_id=account.id)
# a new connection whose first upsert rolls back takes its staging table with it: the next upsert
# makes it again; COPY text escapes backslashes, tabs and newlines in ids and records
from django.db import connection
connection.close()
try:
    with transaction.atomic():
        persistence.entities_upsert(account_id=account.id, upserts={"comments": [comment("gone2")]})
        raise RuntimeError("rolled back")
except RuntimeError:
    pass
B, T, N = chr(92), chr(9), chr(10)  # backslash, tab, newline
odd_id = "odd" + B + "id" + T + N
odd_text = "back" + B + "slash" + T + "tab" + N + 'line "quoted" ' + B + "N " + B + B + " end"
with transaction.atomic():
    persistence.entities_upsert(
        account_id=account.id, upserts={"comments": [comment(odd_id, text=odd_text, content_id="c" + B + "1")]}
    )
# a deleted account's rows go with it (no database foreign key; the ORM cascades)
other = Account.objects.create(nickname="other")
with transaction.atomic():
    persistence.entities_upsert(account_id=other.id, upserts={"comments": [comment("o1"), comment("o2")]})
other.delete()
from datasync.models import Entity
out["other_rows"] = Entity.objects.filter(account_id=other.id).count()
rows = {}
for _, kind, record in persistence.rows_in_order(chunk_size=2):
    rows[record.get("comment_id") or record.get("message_id") or record.get("conversation_id")] = record
out["ids"] = sorted(rows)
out["k2"] = {k: rows["k2"].get(k, "absent") for k in ("likes", "text", "reply_to_reply_id")}
odd = rows[odd_id]
out["odd_ok"] = [
    odd["text"] == odd_text,
    odd["content_id"] == "c" + B + "1",
    Entity.objects.get(platform_id=odd_id).parent_key == "c" + B + "1",
]
loading = Runtime()
loading.build(Wiring())
loading.loading()
loading.load_now()
out["totals"] = loading.store.account_totals(account.id)
out["revision"] = loading.store.account_revisions()[account.id]
print(json.dumps(out))
"""


def test_upserts_merge_stay_atomic_and_load_back_on_postgresql(tmp_path: Path, fresh_database: str) -> None:
    env = base_env(DATABASE_URL=fresh_database, IMHUB_VAR_DIR=str(tmp_path / "var"))
    manage("migrate", "--noinput", "-v", "0", env=env)
    out = json.loads(manage("shell", "-c", SCRIPT, env=env).strip().splitlines()[-1])
    assert out["ids"] == ["k1", "k2", "k3", "k9", "m1", "odd\\id\t\n", "v1"]
    assert out["odd_ok"] == [True, True, True]
    assert out["other_rows"] == 0
    assert out["applied"] == [
        {"comment_id": "k2", "likes": 3, "text": "二", "reply_to_reply_id": None},
        {"comment_id": "k9", "likes": 0, "text": "好看", "reply_to_reply_id": "absent"},
    ]
    assert out["k2"] == {"likes": 3, "text": "二", "reply_to_reply_id": None}
    assert out["totals"] == {
        "contents": 0,
        "comments": 5,
        "conversations": 1,
        "messages": 1,
        "notifications": 0,
    }
    assert out["revision"] == 1
