"""Process statistics for heartbeats and benchmarks: RSS of this process and all its descendants."""

from __future__ import annotations

import os
from pathlib import Path


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        tree.setdefault(int(fields[1]), []).append(int(entry.name))
    return tree


def _rss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return 0
    return 0


def rss_tree_bytes(pid: int | None = None) -> int:
    """Sum of VmRSS over `pid` (default: this process) and its descendants (Chromium included).

    Shared pages are counted once per process, so this over-states the real footprint a little.
    Returns 0 where /proc is not available.
    """
    root = pid or os.getpid()
    if not Path("/proc").exists():
        return 0
    tree = _children()
    total, stack = 0, [root]
    while stack:
        current = stack.pop()
        total += _rss(current)
        stack.extend(tree.get(current, []))
    return total
