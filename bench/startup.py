"""Start-up benchmark: how long a hub process over N stored items takes before it serves the IM API.

`startup_run` fills a fresh database (SQLite in a temporary directory unless a URL is given) with the
benchmark dataset (`bench_account_change`: works, comments with replies, conversations, messages) over
`accounts` accounts through the hub's own upsert, then starts the hub as users do
(`python -m imhub.serve`, the default server) several times on it:

1. cold: no snapshot, every row is read from the database;
2. warm: the snapshot the first process wrote at its shutdown (SIGTERM);
3. after a change: one account gets one more row while no hub runs (its revision moves), so that
   account is read from the database and the others from the snapshot.

Each start is timed from spawning the process to the first `GET /api/im/accounts/` answered 200 (requests sent while
the store loads wait in Django, so a 200 means it serves), checks the store then holds every item, and
reports the load's own split (from `/api/datasync/stats/`), RSS of the process tree and the shutdown
time (which includes writing the snapshot).
"""

from __future__ import annotations

import contextlib
import json
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from bench.hubs import bench_env, shell_json
from crawler.stats import rss_tree_bytes
from imhub.processes import HOST, ManagedProcess, free_port, hub_command

FILL = """
import json
from django.contrib.auth import get_user_model
from django.db import transaction
from rest_framework.authtoken.models import Token
from accounts.models import Account
from bench.data import bench_account_change
from datasync.models import SyncState
from datasync.persistence import entities_upsert
accounts, per_account = {accounts}, {per_account}
for n in range(accounts):
    account = Account.objects.create(nickname=f"startup-{{n}}", platform="douyin")
    change = bench_account_change(account_id=account.id, items=per_account)
    for kind, records in change.upserts.items():
        for start in range(0, len(records), 5000):
            with transaction.atomic():
                entities_upsert(account_id=account.id, upserts={{kind: records[start:start + 5000]}})
    SyncState.objects.create(account=account, last_seq=1, revision=1)
user = get_user_model().objects.create_superuser("bench-startup", "bench@example.org", "bench-startup-pw")
print(json.dumps({{"token": Token.objects.create(user=user).key}}))
"""

TOUCH = """
import json
from accounts.models import Account
from django.db import transaction
from datasync.persistence import entities_upsert, revision_bump
from bench.ingest import comment_record
account = Account.objects.order_by("id").first()
with transaction.atomic():
    entities_upsert(account_id=account.id, upserts={"comments": [comment_record(999_999_999)]})
    revision_bump(account_id=account.id)
print(json.dumps({"account_id": account.id}))
"""


def _get_json(url: str, token: str, timeout: float = 5.0) -> tuple[int, Any]:
    request = urllib.request.Request(
        url, headers={"Authorization": f"Token {token}", "Accept": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.status, json.loads(response.read())


def _start_once(
    *, env: dict[str, str], workdir: Path, token: str, expected: int, label: str
) -> dict[str, Any]:
    port = free_port()
    base = f"http://{HOST}:{port}"
    started = time.perf_counter()
    hub = ManagedProcess(
        name=f"hub-{label}",
        args=hub_command(port=port, env=env),
        env=env,
        log_path=workdir / f"hub-{label}.log",
    ).start()
    try:
        served = None
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError, ValueError):
                status, _ = _get_json(f"{base}/api/im/accounts/", token, timeout=120)
                if status == 200:
                    served = time.perf_counter() - started
                    break
            time.sleep(0.02)
        if served is None:
            raise RuntimeError(f"{label}: the hub did not serve within 600 s (see {hub.log_path.name})")
        _, stats = _get_json(f"{base}/api/datasync/stats/", token)
        totals = stats["store"]["totals"]
        counted = sum(value for kind, value in totals.items() if kind != "accounts")
        if counted != expected:
            raise RuntimeError(f"{label}: the store holds {counted} items, not {expected}")
        assert hub.proc is not None
        rss = rss_tree_bytes(hub.proc.pid)
    finally:
        stopping = time.perf_counter()
        hub.stop(timeout=120, group=False)  # the server's main process stops its workers, as in service
    return {
        "start": label,
        "serves_after_s": round(served, 2),
        "load_s": stats["store"].get("load_seconds"),
        "load": stats["store"].get("load"),
        "rss_mb": round(rss / 2**20),
        "stop_s": round(time.perf_counter() - stopping, 2),
    }


def startup_run(*, rows: int, accounts: int, database_url: str | None = None) -> list[dict[str, Any]]:
    """Fill a fresh database with `rows` items over `accounts` accounts, then time three starts."""
    per_account = rows // accounts
    with tempfile.TemporaryDirectory(prefix="imhub-bench-startup-") as tmp:
        workdir = Path(tmp)
        env = bench_env(database_url=database_url, workdir=workdir, log_level="INFO")
        filled = time.perf_counter()
        token = shell_json(env=env, code=FILL.format(accounts=accounts, per_account=per_account))["token"]
        print(f"filled {per_account * accounts} items in {time.perf_counter() - filled:.0f}s", flush=True)
        expected = per_account * accounts
        results = []
        for label in ("cold", "snapshot"):
            results.append(_start_once(env=env, workdir=workdir, token=token, expected=expected, label=label))
            print(json.dumps(results[-1]), flush=True)
        shell_json(env=env, code=TOUCH)
        results.append(
            _start_once(
                env=env, workdir=workdir, token=token, expected=expected + 1, label="one account changed"
            )
        )
        print(json.dumps(results[-1]), flush=True)
        return results
