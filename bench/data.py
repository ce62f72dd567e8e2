"""Deterministic synthetic IM dataset for the API benchmark (no database needed).

``bench_dataset_fill(store, accounts=..., items=..., boost=...)`` puts ``items`` records spread over
account ids 1..accounts into a DataStore: per account a few works, comments (top-level and replies,
some by the author), conversations and messages (in and out), with increasing times. Account 1 can
be given ``boost`` times its share (the "10x history" case).

A benchmark's serving process (``bench/asgi.py``) fills its store this way at start, as set by
``IMHUB_BENCH_DATASET`` (format ``accounts=100,items=1000000,boost=1``): the benchmark's 1,000,000 items
then need no database load. ``bench_dataset_loader`` is that process's extra loader; a production hub
never has it.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

from datasync.store import Change

logger = logging.getLogger(__name__)

T0 = 1_700_000_000_000
WORDS = (
    "好看",
    "太棒了",
    "支持一下",
    "请问在哪里买",
    "哈哈哈",
    "😀",
    "学到了",
    "期待下一期",
    "真不错",
    "求链接",
)


def _text(n: int) -> str:
    return f"{WORDS[n % len(WORDS)]}{WORDS[(n * 7) % len(WORDS)]} #{n}"


def bench_account_change(*, account_id: int, items: int) -> Change:
    """One account's records: 1% works, 55% comments, 2% conversations, the rest messages."""
    contents = max(1, items // 100)
    conversations = max(1, items // 50)
    comments = items * 55 // 100
    messages = max(0, items - contents - conversations - comments)
    upserts: dict[str, list[dict[str, Any]]] = {
        "contents": [],
        "comments": [],
        "conversations": [],
        "messages": [],
    }
    for i in range(contents):
        upserts["contents"].append(
            {
                "content_id": f"w{i}",
                "type": "video",
                "title": _text(i),
                "published_at": T0 + i * 1000,
                "stats": {
                    "views": (i * 7919) % 100000,
                    "likes": (i * 104729) % 5000,
                    "comments": 0,
                    "shares": 0,
                },
            }
        )
    for i in range(comments):
        parent = f"c{i - 1 - (i % 5)}" if i % 5 and i > 5 else None
        upserts["comments"].append(
            {
                "comment_id": f"c{i}",
                "content_id": f"w{i % contents}" if parent is None else f"w{(i - 1 - (i % 5)) % contents}",
                "parent_id": parent,
                "author": {"id": f"u{i % 997}", "nickname": f"用户{i % 997}"},
                "text": _text(i),
                "created_at": T0 + i * 10,
                "is_author": i % 17 == 0,
            }
        )
    for i in range(conversations):
        upserts["conversations"].append(
            {
                "conversation_id": f"v{i}",
                "peer": {"id": f"p{i}", "nickname": f"访客{i}"},
                "last_message_at": T0,
            }
        )
    for i in range(messages):
        upserts["messages"].append(
            {
                "message_id": f"m{i}",
                "conversation_id": f"v{i % conversations}",
                "direction": "out" if i % 3 == 0 else "in",
                "sender_id": "x",
                "text": _text(i),
                "created_at": T0 + i * 10 + 5,
            }
        )
    return Change(account_id=account_id, seq=1, upserts=upserts, applied_at=T0)


def bench_dataset_fill(store: Any, *, accounts: int, items: int, boost: int = 1) -> int:
    """Fill ``store``; returns the number of records put in."""
    per_account = items // accounts
    total = 0
    for account_id in range(1, accounts + 1):
        count = per_account * (boost if account_id == 1 else 1)
        store.apply_change(bench_account_change(account_id=account_id, items=count))
        total += count
    return total


def bench_dataset_spec() -> dict[str, int] | None:
    raw = os.environ.get("IMHUB_BENCH_DATASET", "")
    if not raw:
        return None
    spec = dict(part.split("=", 1) for part in raw.split(",") if part)
    return {
        "accounts": int(spec.get("accounts", 100)),
        "items": int(spec["items"]),
        "boost": int(spec.get("boost", 1)),
    }


def bench_dataset_loader(store: Any) -> None:
    """Runtime loader: fill the store when IMHUB_BENCH_DATASET is set (benchmark processes only)."""
    spec = bench_dataset_spec()
    if spec is None:
        return
    started = time.perf_counter()
    total = bench_dataset_fill(store, **spec)
    logger.warning(
        "BENCHMARK dataset synthesised: %d items %s in %.1fs", total, spec, time.perf_counter() - started
    )
