"""IM API benchmark: daphne (ASGI) and gunicorn (WSGI) serving a synthetic 1,000,000-item store, driven by wrk.

Each serving process synthesises the same deterministic dataset at start (``IMHUB_BENCH_DATASET``,
see datasync.bench.data), so no database load is needed; the database holds only the users, the team
and the 100 accounts, so authentication and team scoping are the real ones (DRF token + visibility
query per request). Every route runs for ``duration`` seconds per concurrency level; wrk reports
req/s, latency percentiles and errors (socket errors + non-2xx). wrk runs on the same 2 cores.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SEED = """
import json
from django.contrib.auth.models import Group, User
from rest_framework.authtoken.models import Token
from accounts.models import Account
team = Group.objects.create(name="bench-team")
agent = User.objects.create_user("bench-agent", password="x")
agent.groups.add(team)
Account.objects.bulk_create([Account(nickname=f"bench-{i}", team=team) for i in range(1, {accounts} + 1)])
ids = list(Account.objects.order_by("id").values_list("id", flat=True))
assert ids == list(range(1, {accounts} + 1)), ids[:3]
print(json.dumps({{"token": Token.objects.create(user=agent).key}}))
"""
ROUTES: tuple[tuple[str, str], ...] = (
    ("trivial (ceiling)", "/api/im/ping/"),
    ("accounts", "/api/im/accounts/"),
    ("conversations", "/api/im/conversations/?account_id=1"),
    ("messages", "/api/im/messages/?account_id=1&conversation_id=v7"),
    ("contents (-likes)", "/api/im/contents/?account_id=1&ordering=-likes"),
    ("discussions", "/api/im/discussions/?account_id=1&content_id=w3"),
    ("unified", "/api/im/unified-messages/?account_id=1"),
    ("unified unread", "/api/im/unified-messages/?account_id=1&unread=true"),
    ("unread stats", "/api/im/unified-messages/stats/?account_id=1"),
)


@dataclass
class WrkResult:
    server: str
    history: int
    connections: int
    route: str
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", value.strip()).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk_parse(output: str) -> dict[str, Any]:
    """req/s, p50/p99 (ms), errors and request count from ``wrk --latency`` output."""
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"\s50%\s+(\S+)", output).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"\s99%\s+(\S+)", output).group(1))  # type: ignore[union-attr]
    requests = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    errors = 0
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if socket:
        errors += sum(int(x) for x in socket.groups())
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if non2xx:
        errors += int(non2xx.group(1))
    return {"rps": rps, "p50_ms": p50, "p99_ms": p99, "errors": errors, "requests": requests}


def _get(url: str, token: str) -> tuple[int, Any]:
    request = urllib.request.Request(url, headers={"Authorization": f"Token {token}"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, None
    except OSError:
        return 0, None


def _wait_loaded(base: str, token: str, *, expect_items: int, timeout: float = 600.0) -> None:
    """Until every answer (any process) shows the synthesised store."""
    deadline = time.monotonic() + timeout
    good = 0
    while time.monotonic() < deadline:
        status, body = _get(f"{base}/api/im/accounts/?limit=1", token)
        if status == 200 and body["results"] and sum(body["results"][0]["counts"].values()) >= expect_items:
            good += 1
            if good >= 20:
                return
        else:
            good = 0
            time.sleep(1.0)
    raise TimeoutError(f"the server at {base} did not load the benchmark store in {timeout}s")


def _drain(base: str, *, timeout: float = 120.0) -> None:
    """Wait until the server answers a trivial request quickly again: requests of connections wrk
    dropped at the end of a run would otherwise still be queued and be billed to the next route."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        started = time.monotonic()
        try:
            with urllib.request.urlopen(f"{base}/api/im/ping/", timeout=10) as response:
                response.read()
        except OSError:
            continue
        if time.monotonic() - started < 0.2:
            return
        time.sleep(0.5)


def _server_args(server: str, port: int, threads: int) -> list[str]:
    if server == "daphne":
        return [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "imhub.asgi:application"]
    workers = str(os.cpu_count() or 2)
    return [
        sys.executable, "-m", "gunicorn", "-w", workers, "-k", "gthread", "--threads", str(threads),
        "--backlog", "4096", "--worker-connections", "2000", "--timeout", "600",
        "-b", f"127.0.0.1:{port}", "datasync.wsgi_runtime:application",
    ]  # fmt: skip


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bench_im_run(
    *,
    servers: list[str],
    connections: list[int],
    history_connections: list[int],
    accounts: int,
    items: int,
    boost: int,
    duration: int,
    threads: int = 2,
    routes: tuple[tuple[str, str], ...] = ROUTES,
    log: Any = print,
) -> list[WrkResult]:
    """Run the matrix; ``history_connections`` are the levels measured again with ``boost``x history on account 1."""
    results: list[WrkResult] = []
    with tempfile.TemporaryDirectory(prefix="imhub-bench-api-") as tmp:
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        env.update(
            DJANGO_SETTINGS_MODULE="imhub.settings",
            DATABASE_URL=f"sqlite:///{tmp}/bench.sqlite3",
            IMHUB_VAR_DIR=f"{tmp}/var",
            SECRET_KEY="bench-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
            LOG_LEVEL="WARNING",
            PYTHONUNBUFFERED="1",
        )
        manage = [sys.executable, "manage.py"]
        subprocess.run([*manage, "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
        seeded = subprocess.run(
            [
                *manage,
                "shell",
                "-c",
                SEED.replace("{accounts}", str(accounts)).replace("{{", "{").replace("}}", "}"),
            ],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        token = json.loads(seeded.stdout.strip().splitlines()[-1])["token"]
        plan = [(1, connections)] + (
            [(boost, history_connections)] if boost > 1 and history_connections else []
        )
        for history, levels in plan:
            for server in servers:
                port = _free_port()
                server_env = {
                    **env,
                    "IMHUB_BENCH_DATASET": f"accounts={accounts},items={items},boost={history}",
                }
                log_path = Path(tmp) / f"{server}-{history}.log"
                with log_path.open("wb") as out:
                    proc = subprocess.Popen(
                        _server_args(server, port, threads),
                        cwd=ROOT,
                        env=server_env,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                    )
                try:
                    base = f"http://127.0.0.1:{port}"
                    started = time.monotonic()
                    _wait_loaded(base, token, expect_items=(items // accounts) * history)
                    log(
                        f"{server}: store of {items} items (account 1 x{history}) ready in {time.monotonic() - started:.0f}s"
                    )
                    for conns in levels:
                        for name, path in routes:
                            out_text = subprocess.run(
                                [
                                    "wrk", "-t", "2", "-c", str(conns), "-d", f"{duration}s", "--latency",
                                    "--timeout", "4s", "-H", f"Authorization: Token {token}", base + path,
                                ],
                                capture_output=True, text=True, check=True,
                            ).stdout  # fmt: skip
                            parsed = wrk_parse(out_text)
                            if parsed["requests"] == 0:
                                # nothing answered within the run: count every connection as failed
                                parsed["errors"] = max(parsed["errors"], conns)
                            _drain(base)
                            result = WrkResult(
                                server=server, history=history, connections=conns, route=name, **parsed
                            )
                            results.append(result)
                            log(
                                f"  {server} x{history} c={conns:<5} {name:<20} {result.rps:8.0f} req/s  "
                                f"p50 {result.p50_ms:7.2f} ms  p99 {result.p99_ms:8.2f} ms  errors {result.errors}"
                            )
                finally:
                    proc.terminate()
                    try:
                        proc.wait(timeout=20)
                    except subprocess.TimeoutExpired:
                        proc.kill()
                        proc.wait()
    return results


def bench_im_markdown(*, results: list[WrkResult], command: str, notes: list[str]) -> str:
    """The "IM API" section of docs/benchmarks.md."""
    lines = [
        "## IM API",
        "",
        f"Command: `{command}`",
        "",
        *notes,
        "",
        "| server | history | conns | route | req/s | p50 ms | p99 ms | errors |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.server} | {r.history}x | {r.connections} | {r.route} | {r.rps:,.0f} | {r.p50_ms:.2f} | "
            f"{r.p99_ms:.2f} | {r.errors} |"
        )
    return "\n".join(lines) + "\n"


def bench_im_write(*, path: Path, section: str) -> None:
    """Replace (or append) the "## IM API" section of ``path``, leaving other sections alone."""
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    start = text.find("## IM API")
    if start == -1:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = text.find("\n## ", start + 1)
        text = text[:start] + section + (text[end + 1 :] if end != -1 else "")
    path.write_text(text)


def bench_store_memory(*, accounts: int = 10, per_account: int = 10_000) -> dict[str, float]:
    """tracemalloc: bytes per item of a DataStore filled with the benchmark dataset (everything it keeps:
    items, ids, indexes, unread lists), and how much of that is the items' own text."""
    import gc
    import tracemalloc

    from datasync.bench.data import bench_account_change
    from datasync.store import DataStore

    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    store = DataStore()
    items = text_bytes = 0
    for account_id in range(1, accounts + 1):
        change = bench_account_change(account_id=account_id, items=per_account)
        for records in change["upserts"].values():
            for record in records:
                items += 1
                text_bytes += sum(
                    sys.getsizeof(record[k]) for k in ("text", "title", "description") if record.get(k)
                )
        store.apply_change(change)
        del change
    gc.collect()
    total = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    return {
        "items": items,
        "bytes_per_item": total / items,
        "text_bytes_per_item": text_bytes / items,
        "bytes_per_item_beyond_text": (total - text_bytes) / items,
    }


def bench_store_latency(
    *, sizes: tuple[int, ...] = (10_000, 100_000, 1_000_000), rounds: int = 2000
) -> list[dict[str, Any]]:
    """Service time of each store query (first page of 20, microseconds) for one account of each size."""
    from datasync.bench.data import bench_account_change
    from datasync.store import DataStore

    rows = []
    for size in sizes:
        store = DataStore()
        store.apply_change(bench_account_change(account_id=1, items=size))
        _, deep = store.unified_page(account_id=1, types="all", unread=False, cursor=None, limit=size // 2)
        queries: dict[str, Callable[..., Any]] = {
            "conversations": lambda s=store: s.conversations_page(account_id=1, cursor=None, limit=20),
            "messages": lambda s=store: s.messages_page(
                account_id=1, conversation_id="v7", cursor=None, limit=20
            ),
            "contents (-likes)": lambda s=store: s.contents_page(
                account_id=1, ordering="-likes", cursor=None, limit=20
            ),
            "discussions": lambda s=store: s.discussions_page(
                account_id=1, content_id="w3", parent_id=None, cursor=None, limit=20
            ),
            "unified": lambda s=store: s.unified_page(
                account_id=1, types="all", unread=False, cursor=None, limit=20
            ),
            "unified, deep page": lambda s=store, c=deep: s.unified_page(
                account_id=1, types="all", unread=False, cursor=c, limit=20
            ),
            "unread stats": lambda s=store: s.unread_stats(1),
        }
        row: dict[str, Any] = {"items": size}
        for name, query in queries.items():
            query()
            started = time.perf_counter()
            for _ in range(rounds):
                query()
            row[name] = (time.perf_counter() - started) / rounds * 1e6
        rows.append(row)
    return rows
