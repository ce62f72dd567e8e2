"""End-to-end helpers for the crawler tests: a simulator, a hub and a real worker, plus id comparisons.

`crawler_stack(...)` starts the three as real processes; accounts are created in the hub's database
with a storage state holding a simulator session cookie ("session"), no state ("qr": log in through
the simulator's QR control API), or a state Chromium refuses ("broken": initialisation keeps failing).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.processes import (
    Hub,
    ManagedProcess,
    Simulator,
    http_json,
    make_hub,
    start_simulator,
    start_worker,
    wait_until,
)

SEED = """
import json
from accounts.models import Account
from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token
ids = []
for state in json.loads({states!r}):
    account = Account(nickname="e2e", platform="douyin", monitor_interval={interval})
    if state is not None:
        account.set_storage_state(state)
    account.save()
    ids.append(account.id)
user, _ = User.objects.get_or_create(username="root", defaults={{"is_staff": True, "is_superuser": True}})
print(json.dumps({{"ids": ids, "api_token": Token.objects.get_or_create(user=user)[0].key}}))
"""

# A cookie without a domain or url: Chromium refuses the whole storage state when a context is created.
BROKEN_STATE = {"cookies": [{"name": "sessionid", "value": "x", "path": "/"}], "origins": []}


@dataclass
class Stack:
    """The running processes and what the test needs to talk to them."""

    workdir: Path
    sim: Simulator
    hub: Hub
    worker_token: str
    api_token: str
    account_ids: list[int]
    uids: list[str]
    worker: ManagedProcess | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def api(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        return http_json(
            method, f"{self.hub.url}{path}", body=body, headers={"Authorization": f"Token {self.api_token}"}
        )

    def worker_start(self) -> ManagedProcess:
        self.worker = start_worker(
            self.workdir, hub=self.hub, token=self.worker_token, base_url=self.sim.base_url
        )
        return self.worker

    def account(self, account_id: int) -> dict[str, Any]:
        """The account's IM API row (every page is walked: a stack may hold more than one page)."""
        return next(a for a in im_walk(self, "/api/im/accounts/") if a["id"] == account_id)


def im_walk(stack: Stack, path: str) -> list[dict[str, Any]]:
    """Every item of an IM API list route, following next_cursor."""
    items, cursor = [], None
    while True:
        url = path + ("&" if "?" in path else "?") + "limit=100" + (f"&cursor={cursor}" if cursor else "")
        status, data = stack.api("GET", url)
        assert status == 200, data
        items.extend(data["results"])
        cursor = data.get("next_cursor")
        if not cursor:
            return items


def im_ids(stack: Stack, account_id: int) -> dict[str, list[str]]:
    """Ids per kind as the IM API serves them (sorted; duplicates kept so a test can see them)."""
    contents = im_walk(stack, f"/api/im/contents/?account_id={account_id}")
    conversations = im_walk(stack, f"/api/im/conversations/?account_id={account_id}")
    comments = im_walk(stack, f"/api/im/unified-messages/?account_id={account_id}&types=comments")
    messages = im_walk(stack, f"/api/im/unified-messages/?account_id={account_id}&types=messages")
    return {
        "contents": sorted(c["content_id"] for c in contents),
        "comments": sorted(c["id"] for c in comments),
        "conversations": sorted(c["conversation_id"] for c in conversations),
        "messages": sorted(m["id"] for m in messages),
    }


def truth_ids(stack: Stack, uid: str) -> dict[str, list[str]]:
    truth = stack.sim.control("GET", f"accounts/{uid}/truth")
    return {
        "contents": sorted(truth["contents"]),
        "comments": sorted(c["served_id"] for c in truth["comments"]),  # as the account's surface names them
        "conversations": sorted(c["conversation_id"] for c in truth["conversations"]),
        "messages": sorted(m["server_id"] for m in truth["messages"]),
    }


def counts_match(stack: Stack, account_id: int, uid: str) -> bool:
    truth = stack.sim.control("GET", f"accounts/{uid}/truth")["counts"]
    counts = stack.account(account_id)["counts"]
    return all(counts[k] == truth[k] for k in ("contents", "comments", "conversations", "messages"))


def wait_synced(stack: Stack, account_id: int, uid: str, *, timeout: float = 180.0) -> None:
    wait_until(
        lambda: counts_match(stack, account_id, uid),
        timeout=timeout,
        interval=1.0,
        what=f"account {account_id} to match the simulator",
    )


@contextlib.contextmanager
def crawler_stack(
    workdir: Path,
    *,
    kinds: list[str],
    sim_args: tuple[str, ...] = (
        "--works",
        "5",
        "--comments",
        "60",
        "--conversations",
        "6",
        "--messages",
        "40",
    ),
    interval: float = 3.0,
    start: bool = True,
    hub_options: dict[str, Any] | None = None,
) -> Iterator[Stack]:
    """Simulator + hub + (optionally started) worker, with one account per entry of `kinds`;
    `hub_options` go to `make_hub` (e.g. database_url and redis_url for a multi-process hub)."""
    sim_process, base_url = start_simulator(workdir / "sim", accounts=len(kinds), extra_args=sim_args)
    sim = Simulator(process=sim_process, base_url=base_url)
    hub: Hub | None = None
    stack: Stack | None = None
    try:
        uids = [a["uid"] for a in sim.control("GET", "accounts")["accounts"]]
        states: list[Any] = []
        for kind, uid in zip(kinds, uids, strict=True):
            if kind == "session":
                cookie = sim.control("POST", "sessions", {"uid": uid})["cookie"]
                states.append({"cookies": [cookie], "origins": []})
            elif kind == "broken":
                states.append(BROKEN_STATE)
            else:
                states.append(None)
        hub = make_hub(workdir / "hub", **(hub_options or {})).start()
        worker_token = hub.manage("create_worker", "w1", "--capacity", str(max(10, len(kinds))))
        worker_token = worker_token.strip().splitlines()[-1]
        seed = json.loads(
            hub.shell(SEED.format(states=json.dumps(states), interval=interval)).strip().splitlines()[-1]
        )
        stack = Stack(
            workdir=workdir,
            sim=sim,
            hub=hub,
            worker_token=worker_token,
            api_token=seed["api_token"],
            account_ids=seed["ids"],
            uids=uids,
        )
        if start:
            stack.worker_start()
        yield stack
    except BaseException:
        if stack is not None and stack.worker is not None:
            print("---- worker log ----\n" + stack.worker.log_tail(120))
        if hub is not None and hub.process is not None:
            print("---- hub log ----\n" + hub.process.log_tail(60))
        raise
    finally:
        if stack is not None and stack.worker is not None:
            stack.worker.stop()
        if hub is not None:
            hub.stop()
        sim.stop()
