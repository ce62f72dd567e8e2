"""The OpenAPI schema describes the API (issue 25 #7): schemathesis runs every operation of
`/api/schema/` against a live hub holding synced data (a worker syncs over its WebSocket), as a team
agent and as a superuser, with the schema-conformance checks: every answer's status code, content type
and body are the documented ones, and no answer is a server error. Fixed seed: a failure reproduces.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.datasync.records import comment, content, conversation, message, sync_text
from tests.e2e.datasync_support import recv, register, worker_connect
from tests.support.processes import http_json, make_hub

pytestmark = pytest.mark.e2e

CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
SEED = """
import json
from accounts.models import Account
from django.contrib.auth.models import Group, User
from rest_framework.authtoken.models import Token
red = Group.objects.create(name="red")
agent = User.objects.create_user("agent", password="x")
agent.groups.add(red)
root = User.objects.create_superuser("root", password="x")
account = Account.objects.create(nickname="红", platform="douyin", team=red)
print(json.dumps({"account_id": account.id, "agent": Token.objects.create(user=agent).key,
                  "root": Token.objects.create(user=root).key}))
"""


def _schemathesis(base: str, token: str, workdir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(Path(sys.executable).parent / "schemathesis"),
            "run",
            f"{base}/api/schema/?format=json",
            "--header",
            f"Authorization: Token {token}",
            "--checks",
            CHECKS,
            "--phases",
            "examples,coverage,fuzzing",
            "--max-examples",
            "25",
            "--workers",
            "2",
            "--seed",
            "20261205",
            "--no-color",
            # the one account the data lives on stays (every other operation runs, DELETEs too)
            "--exclude-operation-id",
            "manage_accounts_destroy",
        ],
        capture_output=True,
        text=True,
        timeout=900,
        stdin=subprocess.DEVNULL,
        cwd=workdir,  # its cache (.schemathesis/) stays out of the checkout
    )


def test_every_operation_answers_as_the_schema_says(tmp_path: Path) -> None:
    hub = make_hub(tmp_path).start()
    try:
        worker_token = hub.manage("create_worker", "w1").strip().splitlines()[-1]
        seed = json.loads(hub.shell(SEED).strip().splitlines()[-1])
        account_id = seed["account_id"]
        with worker_connect(hub, worker_token) as worker:
            [assignment] = register(worker)["payload"]["assignments"]
            worker.send(
                sync_text(
                    account_id=account_id,
                    epoch=assignment["epoch"],
                    seq=1,
                    entities={
                        "contents": [content("w1"), content("w2")],
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
            status, schema = http_json(
                "GET",
                f"{hub.url}/api/schema/?format=json",
                headers={"Authorization": f"Token {seed['root']}"},
            )
            assert status == 200, schema
            operations = sum(
                1
                for item in schema["paths"].values()
                for method in item
                if method in ("get", "post", "put", "patch", "delete")
            )
            # when every operation is exercised as an agent, then as a superuser
            for who in ("agent", "root"):
                run = _schemathesis(hub.url, seed[who], tmp_path)
                # then no check fails
                assert run.returncode == 0, f"as {who}:\n{run.stdout[-6000:]}\n{run.stderr[-2000:]}"
                # and every operation of the schema was tested (all but the one excluded)
                selected = re.search(r"Selected: (\d+)/(\d+)", run.stdout)
                tested = re.search(r"Tested: (\d+)", run.stdout)
                assert selected is not None and tested is not None, run.stdout[-2000:]
                assert (int(selected.group(2)), int(tested.group(1))) == (operations, operations - 1)
    finally:
        hub.stop()
