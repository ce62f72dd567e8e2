"""The IM app took ReadMark and ReplyRequest over from `datasync`: a database migrated at the old head,
with rows in it, keeps every row (and the models' content types) after migrating to the new head.

Real `manage.py` processes on a fresh database of each engine: migrate to the old head
(`datasync.0005`, before the IM app existed), write rows with the old app's historical models, migrate
to the head, read them back through the IM app's models.
"""

from __future__ import annotations

import json
from pathlib import Path

from imhub.processes import manage
from tests.support.processes import base_env

OLD_HEAD = ("datasync", "0005_entity_account_no_db_constraint")

WRITE = f"""
import json, uuid
from django.db import connection
from django.db.migrations.loader import MigrationLoader
old = MigrationLoader(connection).project_state({OLD_HEAD!r}).apps
Account = old.get_model("accounts", "Account")
User = old.get_model("auth", "User")
ContentType = old.get_model("contenttypes", "ContentType")
ReadMark = old.get_model("datasync", "ReadMark")
ReplyRequest = old.get_model("datasync", "ReplyRequest")
account = Account.objects.create(nickname="before", platform="douyin")
agent = User.objects.create(username="agent")
ReadMark.objects.create(account=account, target="items", kind="comments", ids=["c1", "c2"], marked_by=agent)
ReadMark.objects.create(account=account, target="conversation", conversation_id="v1", up_to=1700000000000)
reply = ReplyRequest.objects.create(
    account=account, target_kind="comment", comment_id="c1", content_id="w1", text="谢谢",
    idempotency_key="k1", created_by=agent, status="sent", platform_reply_id="p1",
)
print(json.dumps({{
    "reply": str(reply.id),
    "content_types": {{m: ContentType.objects.get(app_label="datasync", model=m).pk for m in ("readmark", "replyrequest")}},
}}))
"""

READ = """
import json
from django.contrib.contenttypes.models import ContentType
from datasync.im.models import ReadMark, ReplyRequest
print(json.dumps({
    "marks": [[m.target, m.kind, m.ids, m.conversation_id, m.up_to, m.marked_by.username if m.marked_by else None]
              for m in ReadMark.objects.order_by("id")],
    "replies": [[str(r.id), r.text, r.status, r.platform_reply_id, r.target, r.created_by.username]
                for r in ReplyRequest.objects.all()],
    "content_types": {m: ContentType.objects.get_for_model(model).pk
                      for m, model in (("readmark", ReadMark), ("replyrequest", ReplyRequest))},
    "old_content_types": ContentType.objects.filter(app_label="datasync", model__in=["readmark", "replyrequest"]).count(),
}))
"""


def _last_json(out: str) -> dict:
    return json.loads(out.strip().splitlines()[-1])


def test_rows_of_the_old_head_survive_the_move_to_the_im_app(
    engine_database_url: str, tmp_path: Path
) -> None:
    # given a database at the old head with read marks and a reply in the old app's tables
    env = base_env(DATABASE_URL=engine_database_url, IMHUB_VAR_DIR=str(tmp_path / "var"))
    manage("migrate", "--noinput", *OLD_HEAD, env=env)
    written = _last_json(manage("shell", "-c", WRITE, env=env))

    # when it migrates to the new head
    manage("migrate", "--noinput", env=env)

    # then the IM app's models read the same rows, and the content types moved with them
    got = _last_json(manage("shell", "-c", READ, env=env))
    assert got["marks"] == [
        ["items", "comments", ["c1", "c2"], "", None, "agent"],
        ["conversation", "", [], "v1", 1700000000000, None],
    ]
    target = {"kind": "comment", "content_id": "w1", "comment_id": "c1", "conversation_id": None}
    assert got["replies"] == [[written["reply"], "谢谢", "sent", "p1", target, "agent"]]
    assert got["content_types"] == written["content_types"]
    assert got["old_content_types"] == 0
