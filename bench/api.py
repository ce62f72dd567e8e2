"""IM API benchmark: the hub serving a synthetic 1,000,000-item store, driven by wrk, against a ceiling.

Each serving process (``bench.asgi``: the production hub plus the dataset loader) synthesises the same
deterministic dataset at start (``IMHUB_BENCH_DATASET``, see bench.data), so no database load is
needed; the database holds only the users, the team and the 100 accounts, so authentication and team
scoping are the real ones (a DRF token of a non-superuser agent). Every route runs for ``duration`` seconds per concurrency level; wrk reports
req/s, latency percentiles (p50, p99, p99.9 through a small Lua hook) and errors (socket errors +
non-2xx). wrk runs on the same 2 cores.

A set-up is ``<path>:<server>[x<processes>]``: path ``lane`` (the default hub: the ASGI read lane in
front of Django), ``drf`` (``IMHUB_READ_LANE=0``: every request through Django + DRF) or ``ceiling``
(a raw ASGI app returning the same 20-item body, ``bench.ceiling``); server ``uvicorn``,
``granian`` or ``daphne``. The ceiling runs beside each hub set-up under the same server (same number
of processes) and is measured right before every route at the same connection level, so each route's
ratio to the ceiling compares two runs seconds apart on the same, shared machine.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.hubs import bench_env, shell_json
from imhub.processes import HOST, ManagedProcess, free_port, http_json, hub_command, manage

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
    ("accounts", "/api/im/accounts/"),
    ("account", "/api/im/accounts/1/"),
    ("conversations", "/api/im/conversations/?account_id=1"),
    ("conversation", "/api/im/conversations/v7/?account_id=1"),
    ("messages", "/api/im/messages/?account_id=1&conversation_id=v7"),
    ("contents (-likes)", "/api/im/contents/?account_id=1&ordering=-likes"),
    ("content", "/api/im/contents/w3/?account_id=1"),
    ("discussions", "/api/im/discussions/?account_id=1&content_id=w3"),
    ("unified", "/api/im/unified-messages/?account_id=1"),
    ("unified unread", "/api/im/unified-messages/?account_id=1&unread=true"),
    ("unread stats", "/api/im/unified-messages/stats/?account_id=1"),
    # the desk's queue over every account of the team (100), longest waiting first, and its view counts
    ("desk queue", "/api/desk/threads/"),
    ("desk queue (dm, unread)", "/api/desk/threads/?kind=dm&unread=true"),
    ("desk counts", "/api/desk/threads/counts/"),
)
CEILING_ROUTE = ("ceiling (raw ASGI, same body)", "/api/im/unified-messages/?account_id=1")
LUA = """
done = function(summary, latency, requests)
  io.write(string.format("P999_US %d\\n", latency:percentile(99.9)))
end
"""


@dataclass
class WrkResult:
    setup: str
    history: int
    connections: int
    route: str
    rps: float
    p50_ms: float
    p99_ms: float
    p999_ms: float
    errors: int
    requests: int
    ceiling_rps: float | None = None
    load1: float = 0.0  # the machine's 1-minute load average right after the run

    @property
    def ratio(self) -> float | None:
        return self.rps / self.ceiling_rps if self.ceiling_rps else None


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", value.strip()).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk_parse(output: str) -> dict[str, Any]:
    """req/s, p50/p99/p99.9 (ms), errors and request count from ``wrk --latency`` output."""
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"\s50%\s+(\S+)", output).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"\s99%\s+(\S+)", output).group(1))  # type: ignore[union-attr]
    p999_match = re.search(r"P999_US (\d+)", output)
    p999 = int(p999_match.group(1)) / 1000 if p999_match else float("nan")
    requests = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    errors = 0
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if socket:
        errors += sum(int(x) for x in socket.groups())
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if non2xx:
        errors += int(non2xx.group(1))
    return {"rps": rps, "p50_ms": p50, "p99_ms": p99, "p999_ms": p999, "errors": errors, "requests": requests}


def _get(url: str, token: str) -> tuple[int, Any]:
    """(status, JSON body) of a GET with the agent's token; (0, None) when nothing answered."""
    try:
        return http_json("GET", url, headers={"Authorization": f"Token {token}"}, timeout=60)
    except OSError:
        return 0, None


def _wait_loaded(base: str, token: str, *, expect_items: int | None, timeout: float = 900.0) -> None:
    """Until every answer (any process) shows the synthesised store (or, for a ceiling, answers)."""
    deadline = time.monotonic() + timeout
    good = 0
    while time.monotonic() < deadline:
        status, body = _get(f"{base}/api/im/accounts/?limit=1", token)
        if expect_items is None:
            ok = status == 200
        else:
            ok = (
                status == 200
                and bool(body["results"])
                and sum(body["results"][0]["counts"].values()) >= expect_items
            )
        if ok:
            good += 1
            if good >= 20:
                return
        else:
            good = 0
            time.sleep(1.0)
    raise TimeoutError(f"the server at {base} did not load the benchmark store in {timeout}s")


def _drain(base: str, token: str, *, timeout: float = 120.0) -> None:
    """Wait until the server answers a cheap request quickly again: requests of connections wrk
    dropped at the end of a run would otherwise still be queued and be billed to the next route."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        started = time.monotonic()
        status, _ = _get(f"{base}/api/im/unified-messages/stats/?account_id=1", token)
        if status and time.monotonic() - started < 0.2:
            return
        time.sleep(0.5)


def _parse_setup(setup: str) -> tuple[str, str, int]:
    match = re.fullmatch(r"(lane|drf|ceiling):(uvicorn|granian|daphne)(?:x(\d+))?", setup)
    if match is None:
        raise ValueError(f"bad set-up {setup!r}: <lane|drf|ceiling>:<uvicorn|granian|daphne>[x<processes>]")
    return match.group(1), match.group(2), int(match.group(3) or 1)


def _wrk(base: str, path: str, *, token: str, conns: int, duration: int, lua: Path) -> dict[str, Any]:
    out = subprocess.run(
        [
            "wrk", "-t", "2", "-c", str(conns), "-d", f"{duration}s", "--latency", "--timeout", "4s",
            "-s", str(lua), "-H", f"Authorization: Token {token}", base + path,
        ],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    parsed = wrk_parse(out)
    if parsed["requests"] == 0:
        # nothing answered within the run: count every connection as failed
        parsed["errors"] = max(parsed["errors"], conns)
    parsed["load1"] = round(os.getloadavg()[0], 1)
    return parsed


class _Server:
    """One serving set-up as a child process (the server's command from ``imhub.processes``), stopped
    on exit: the hub (``bench.asgi``, the production hub plus the benchmark's dataset) or the ceiling."""

    def __init__(self, *, setup: str, env: dict[str, str], tmp: str, history: int) -> None:
        path, server, processes = _parse_setup(setup)
        self.setup, self.path, self.server, self.processes = setup, path, server, processes
        self.port = free_port()
        self.base = f"http://{HOST}:{self.port}"
        env = {**env, "IMHUB_SERVER": server, "IMHUB_READ_LANE": "0" if path == "drf" else "1"}
        if processes > 1 and not env.get("REDIS_URL"):
            env["REDIS_URL"] = os.environ.get("IMHUB_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
        app = "bench.ceiling:application" if path == "ceiling" else "bench.asgi:application"
        self.process = ManagedProcess(
            name=setup,
            args=hub_command(port=self.port, env=env, processes=processes, app=app),
            env=env,
            log_path=Path(tmp) / f"{setup.replace(':', '-')}-{history}.log",
        )

    def __enter__(self) -> _Server:
        self.process.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.process.stop(timeout=30)


def bench_database(tmp: str, *, seed: str) -> tuple[dict[str, str], dict[str, Any]]:
    """A fresh, migrated SQLite database in ``tmp`` seeded by ``seed`` (``manage.py shell`` code whose
    last output line is JSON); returns (the benchmark processes' env, that JSON)."""
    env = bench_env(workdir=Path(tmp))
    return env, shell_json(env=env, code=seed)


def _bench_database(tmp: str, *, accounts: int) -> tuple[dict[str, str], str]:
    """The API benchmark's database: the agent, its team and the accounts; (env, token)."""
    seed = SEED.replace("{accounts}", str(accounts)).replace("{{", "{").replace("}}", "}")
    env, seeded = bench_database(tmp, seed=seed)
    return env, str(seeded["token"])


def bench_service_run(
    *, accounts: int, items: int, routes: tuple[tuple[str, str], ...]
) -> list[dict[str, Any]]:
    """``bench.service`` in a child process on a fresh database: CPU us per request per route."""
    with tempfile.TemporaryDirectory(prefix="imhub-bench-service-") as tmp:
        env, token = _bench_database(tmp, accounts=accounts)
        code = (
            "from bench.service import main; "
            f"main(routes_json={json.dumps(json.dumps(routes))}, token={token!r}, accounts={accounts}, items={items})"
        )
        out = manage("shell", "-c", code, env=env, timeout=3600)
    line = next(line for line in out.splitlines() if line.startswith("SERVICE_TIME "))
    return list(json.loads(line.removeprefix("SERVICE_TIME ")))


def bench_im_run(
    *,
    setups: list[str],
    connections: list[int],
    history_setups: list[str],
    history_connections: list[int],
    accounts: int,
    items: int,
    boost: int,
    duration: int,
    routes: tuple[tuple[str, str], ...] = ROUTES,
    log: Any = print,
) -> list[WrkResult]:
    """Run the matrix: each set-up at 1x history, ``history_setups`` again with ``boost``x history on account 1.
    Each hub set-up is preceded by the ceiling under the same server at the same connection levels."""
    results: list[WrkResult] = []
    with tempfile.TemporaryDirectory(prefix="imhub-bench-api-") as tmp:
        lua = Path(tmp) / "p999.lua"
        lua.write_text(LUA)
        env, token = _bench_database(tmp, accounts=accounts)
        plan = [(1, setups, connections)]
        if boost > 1 and history_setups and history_connections:
            plan.append((boost, history_setups, history_connections))
        for history, plan_setups, levels in plan:
            dataset = {"IMHUB_BENCH_DATASET": f"accounts={accounts},items={items},boost={history}"}
            for setup in plan_setups:
                path, server, processes = _parse_setup(setup)
                ceiling_setup = f"ceiling:{server}" + (f"x{processes}" if processes > 1 else "")
                with (
                    _Server(setup=ceiling_setup, env={**env, **dataset}, tmp=tmp, history=history) as top,
                    _Server(setup=setup, env={**env, **dataset}, tmp=tmp, history=history) as srv,
                ):
                    started = time.monotonic()
                    _wait_loaded(top.base, token, expect_items=None)
                    expect = None if path == "ceiling" else (items // accounts) * history
                    _wait_loaded(srv.base, token, expect_items=expect)
                    log(
                        f"{setup}: store of {items} items (account 1 x{history}) ready in {time.monotonic() - started:.0f}s"
                    )
                    for conns in levels:
                        for name, route_path in routes if path != "ceiling" else (CEILING_ROUTE,):
                            # the ceiling right before each route, so the ratio compares runs seconds apart
                            roof = _wrk(
                                top.base,
                                CEILING_ROUTE[1],
                                token=token,
                                conns=conns,
                                duration=duration,
                                lua=lua,
                            )
                            _drain(top.base, token)
                            parsed = _wrk(
                                srv.base, route_path, token=token, conns=conns, duration=duration, lua=lua
                            )
                            _drain(srv.base, token)
                            result = WrkResult(
                                setup=setup, history=history, connections=conns, route=name,
                                ceiling_rps=roof["rps"], **parsed,
                            )  # fmt: skip
                            results.append(result)
                            log(_line(result))
    return results


def _line(r: WrkResult) -> str:
    ratio = f"{r.ratio:5.2f}" if r.ratio is not None else "    -"
    return (
        f"  {r.setup:<18} x{r.history} c={r.connections:<5} {r.route:<30} {r.rps:8.0f} req/s  ratio {ratio}  "
        f"p50 {r.p50_ms:7.2f} ms  p99 {r.p99_ms:8.2f} ms  p99.9 {r.p999_ms:8.2f} ms  errors {r.errors}  load {r.load1}"
    )


def bench_im_markdown(*, results: list[WrkResult], command: str, notes: list[str]) -> str:
    """The "IM API" section of docs/benchmarks.md (the raw table; the analysis is written beside it)."""
    lines = [
        "### Run table",
        "",
        f"Command: `{command}`",
        "",
        *notes,
        "",
        "| set-up | history | conns | route | req/s | ratio to ceiling | p50 ms | p99 ms | p99.9 ms | errors | load |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        ratio = f"{r.ratio:.2f}" if r.ratio is not None else "-"
        lines.append(
            f"| {r.setup} | {r.history}x | {r.connections} | {r.route} | {r.rps:,.0f} | {ratio} | {r.p50_ms:.2f} | "
            f"{r.p99_ms:.2f} | {r.p999_ms:.2f} | {r.errors} | {r.load1} |"
        )
    return "\n".join(lines) + "\n"


def bench_im_write(*, path: Path, section: str) -> None:
    """Write the run table to ``path`` (a file of its own, linked from docs/benchmarks.md)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("# IM API benchmark: raw run table\n\n" + section)


def bench_store_memory(*, accounts: int = 10, per_account: int = 10_000) -> dict[str, float]:
    """tracemalloc: bytes per item of a DataStore filled with the benchmark dataset (everything it keeps:
    items, ids, indexes, unread lists), and how much of that is the items' own text."""
    import gc
    import tracemalloc

    from bench.data import bench_account_change
    from datasync.store import DataStore

    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    store = DataStore()
    items = text_bytes = 0
    for account_id in range(1, accounts + 1):
        change = bench_account_change(account_id=account_id, items=per_account)
        for records in change.upserts.values():
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
    from bench.data import bench_account_change
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
