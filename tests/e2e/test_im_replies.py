"""End-to-end: daphne as a real process, a test worker on a real WebSocket, an agent over HTTP + /ws/im/.

The worker syncs data; the agent sees it in the IM API and as live events, replies to a comment; the
worker receives ``master:reply:request``, answers ``worker:reply:result`` sent; the reply shows sent and
its comment appears in the discussion at once. Team scoping holds against the real server.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import ClientConnection, connect
from websockets.sync.connection import Connection

from datasync.protocol import ReplyResultFrame, dump_frame
from datasync.protocol.records import Comment
from tests.datasync.records import comment, content, conversation, message, sync_text
from tests.e2e.datasync_support import recv, register, worker_connect
from tests.support.processes import Hub, http_json, make_hub, wait_until

pytestmark = pytest.mark.e2e

SEED = """
import json
from accounts.models import Account
from django.contrib.auth.models import Group, User
from rest_framework.authtoken.models import Token
red, blue = Group.objects.create(name="red"), Group.objects.create(name="blue")
agent = User.objects.create_user("agent", password="x")
agent.groups.add(red)
outsider = User.objects.create_user("outsider", password="x")
outsider.groups.add(blue)
account = Account.objects.create(nickname="红", platform="douyin", team=red)
print(json.dumps({"account_id": account.id, "agent": Token.objects.create(user=agent).key,
                  "outsider": Token.objects.create(user=outsider).key}))
"""


def _api(hub: Hub, token: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    return http_json(method, f"{hub.url}{path}", body=body, headers={"Authorization": f"Token {token}"})


def _inbox(hub: Hub, token: str) -> ClientConnection:
    return connect(
        f"{hub.ws_url}/ws/im/", additional_headers={"Authorization": f"Token {token}"}, open_timeout=10
    )


def _events_until(ws: Connection, predicate: Any) -> list[dict[str, Any]]:
    seen = []
    while True:
        event = json.loads(ws.recv(timeout=15))
        seen.append(event)
        if predicate(event):
            return seen


def test_reply_lifecycle_end_to_end(tmp_path: Path) -> None:
    # given a hub, a worker created by the command, and an agent of the account's team
    hub = make_hub(tmp_path).start()
    try:
        worker_token = hub.manage("create_worker", "w1").strip().splitlines()[-1]
        seed = json.loads(hub.shell(SEED).strip().splitlines()[-1])
        account_id = seed["account_id"]
        with worker_connect(hub, worker_token) as worker, _inbox(hub, seed["agent"]) as inbox:
            ready = json.loads(inbox.recv(timeout=15))
            ack = register(worker)
            [assignment] = ack["payload"]["assignments"]
            epoch = assignment["epoch"]

            # when the worker syncs a work, two comments, a conversation and a message
            worker.send(
                sync_text(
                    account_id=account_id,
                    epoch=epoch,
                    seq=1,
                    entities={
                        "contents": [content("w1")],
                        "comments": [
                            comment("c1", content_id="w1", created_at=1_764_000_000_000),
                            comment("c2", content_id="w1", created_at=1_764_000_001_000),
                        ],
                        "conversations": [conversation("v1")],
                        "messages": [message("m1", conversation_id="v1", created_at=1_764_000_002_000)],
                    },
                )
            )
            assert recv(worker)["payload"] == {"account_id": account_id, "seq": 1}

            # then the agent gets each new item live, and the IM API serves them newest first
            new_items = _events_until(inbox, lambda e: e.get("data", {}).get("kind") == "message")
            status, unified = _api(
                hub, seed["agent"], "GET", f"/api/im/unified-messages/?account_id={account_id}"
            )
            assert ready["type"] == "ready"
            assert {e["account_id"] for e in new_items} == {account_id}
            assert [(e["type"], e["data"]["kind"]) for e in new_items if e["type"] == "new_item"] == [
                ("new_item", "content"),
                ("new_item", "comment"),
                ("new_item", "comment"),
                ("new_item", "conversation"),
                ("new_item", "message"),
            ]
            assert status == 200
            assert [(i["kind"], i["id"]) for i in unified["results"]] == [
                ("message", "m1"),
                ("comment", "c2"),
                ("comment", "c1"),
            ]

            # when the agent replies to c1
            status, posted = _api(
                hub,
                seed["agent"],
                "POST",
                "/api/im/replies/",
                {
                    "account_id": account_id,
                    "target": {"kind": "comment", "comment_id": "c1"},
                    "text": "谢谢你的支持 🙏",
                    "idempotency_key": "reply-1",
                },
            )
            # then it is accepted pending, and the worker receives the request
            assert status == 202
            assert posted["status"] == "pending"
            request = recv(worker)
            assert request["type"] == "master:reply:request"
            assert request["payload"] == {
                "reply_id": posted["id"],
                "account_id": account_id,
                "target": {
                    "kind": "comment",
                    "content_id": "w1",
                    "comment_id": "c1",
                    "conversation_id": None,
                },
                "text": "谢谢你的支持 🙏",
                "attempt": 1,
                "first_attempt_at": int(datetime.fromisoformat(posted["created_at"]).timestamp() * 1000),
                "verify_first": False,
            }

            # when the same key is posted again, then the same reply comes back and nothing is re-sent
            again_status, again = _api(
                hub,
                seed["agent"],
                "POST",
                "/api/im/replies/",
                {
                    "account_id": account_id,
                    "target": {"kind": "comment", "comment_id": "c1"},
                    "text": "谢谢你的支持 🙏",
                    "idempotency_key": "reply-1",
                },
            )
            assert (again_status, again["id"]) == (200, posted["id"])

            # when the worker confirms it sent, with the created comment
            entity = comment(
                "c9", content_id="w1", created_at=1_764_000_009_000, parent_id="c1", is_author=True,
                text="谢谢你的支持 🙏",
            )  # fmt: skip
            worker.send(
                dump_frame(
                    ReplyResultFrame.build(
                        reply_id=posted["id"], status="sent", platform_reply_id="c9", entity=entity
                    )
                )
            )

            # then the reply shows sent, the comment is in the thread, and the agent saw both live
            done = wait_until(
                lambda: (
                    (r := _api(hub, seed["agent"], "GET", f"/api/im/replies/{posted['id']}/")[1])["status"]
                    == "sent"
                    and r
                ),
                timeout=15,
                what="reply sent",
            )
            assert (done["platform_reply_id"], done["error_code"]) == ("c9", None)
            status, thread = _api(
                hub, seed["agent"], "GET", f"/api/im/discussions/?account_id={account_id}&parent_id=c1"
            )
            assert [c["comment_id"] for c in thread["results"]] == ["c9"]
            assert thread["results"][0]["unread"] is False
            live = _events_until(
                inbox, lambda e: e.get("type") == "reply_status" and e["data"]["status"] == "sent"
            )
            live += _events_until(inbox, lambda e: e.get("type") == "new_item")
            assert [e["data"]["status"] for e in live if e["type"] == "reply_status"] == ["pending", "sent"]
            # the event carries the record as the wire protocol defines it (optional fields included)
            record = Comment.model_validate(entity).model_dump(mode="json")
            assert live[-1]["data"] == {"kind": "comment", "record": record}

        # and another team's agent cannot see the account or the reply
        hidden, _ = _api(hub, seed["outsider"], "GET", f"/api/im/unified-messages/?account_id={account_id}")
        hidden_reply, _ = _api(hub, seed["outsider"], "GET", f"/api/im/replies/{posted['id']}/")
        assert (hidden, hidden_reply) == (404, 404)
        log = hub.log_path.read_text()
        assert worker_token not in log and seed["agent"] not in log
    finally:
        hub.stop()


def test_pagination_walk_while_a_worker_syncs_yields_each_item_once(tmp_path: Path) -> None:
    # given a hub holding 120 comments and 80 messages synced by a real worker
    hub = make_hub(tmp_path).start()
    try:
        worker_token = hub.manage("create_worker", "w1").strip().splitlines()[-1]
        seed = json.loads(hub.shell(SEED).strip().splitlines()[-1])
        account_id = seed["account_id"]
        base = 1_764_000_000_000
        with worker_connect(hub, worker_token) as worker:
            epoch = register(worker)["payload"]["assignments"][0]["epoch"]
            entities = {
                "comments": [
                    comment(f"c{i:03}", content_id="w1", created_at=base + i * 10) for i in range(120)
                ],
                "messages": [
                    message(f"m{i:03}", conversation_id="v1", created_at=base + i * 10 + 5) for i in range(80)
                ],
            }
            worker.send(sync_text(account_id=account_id, epoch=epoch, seq=1, entities=entities))
            assert recv(worker)["payload"]["seq"] == 1
            expected = sorted(
                [(base + i * 10, 0, f"c{i:03}") for i in range(120)]
                + [(base + i * 10 + 5, 1, f"m{i:03}") for i in range(80)],
                reverse=True,
            )

            # when the agent walks 25 at a time while the worker syncs newer and older items between pages
            seen: list[str] = []
            path = f"/api/im/unified-messages/?account_id={account_id}&limit=25"
            seq = 1
            while path:
                status, page = _api(hub, seed["agent"], "GET", path)
                assert status == 200, page
                seen += [item["id"] for item in page["results"]]
                seq += 1
                worker.send(
                    sync_text(
                        account_id=account_id,
                        epoch=epoch,
                        seq=seq,
                        entities={
                            "messages": [
                                message(f"new{seq}", conversation_id="v1", created_at=base + 10_000 + seq),
                                message(f"old{seq}", conversation_id="v1", created_at=base - 10_000 - seq),
                            ]
                        },
                    )
                )
                assert recv(worker)["payload"]["seq"] == seq
                cursor = page["next_cursor"]
                path = (
                    f"/api/im/unified-messages/?account_id={account_id}&limit=25&cursor={cursor}"
                    if cursor
                    else ""
                )

        # then every item present at the start came exactly once, in order, and no newer one slipped in
        originals = {i for _, _, i in expected}
        assert [i for i in seen if i in originals] == [i for _, _, i in expected]
        assert len(seen) == len(set(seen))
        assert not any(i.startswith("new") for i in seen)
    finally:
        hub.stop()
