"""Process statistics for heartbeats and benchmarks (bench/): RSS and PSS of a process and all its descendants."""

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


def _field_kb(path: str, name: str) -> int:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(name):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return 0
    return 0


def _rss(pid: int) -> int:
    return _field_kb(f"/proc/{pid}/status", "VmRSS:")


def _pss(pid: int) -> int:
    return _field_kb(f"/proc/{pid}/smaps_rollup", "Pss:")


def _tree(root: int) -> list[int]:
    tree = _children()
    found, stack = [], [root]
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(tree.get(current, []))
    return found


def pss_tree_bytes(pid: int | None = None) -> int:
    """Sum of PSS (shared pages divided among their sharers) over `pid` and its descendants: the
    fair share of memory; Chromium's processes share much, so this is well below the RSS sum."""
    if not Path("/proc").exists():
        return 0
    return sum(_pss(p) for p in _tree(pid or os.getpid()))


def memory_tree_bytes(pid: int | None = None) -> tuple[int, int]:
    """(RSS sum, PSS sum) over `pid` (default: this process) and its descendants in one walk; (0, 0)
    where /proc is not available. The heartbeat sends both: the RSS sum swings with the number of
    Chromium processes alive (each counts the shared pages again), the PSS sum is the footprint."""
    if not Path("/proc").exists():
        return 0, 0
    tree = _tree(pid or os.getpid())
    return sum(_rss(p) for p in tree), sum(_pss(p) for p in tree)


def rss_tree_bytes(pid: int | None = None) -> int:
    """Sum of VmRSS over `pid` (default: this process) and its descendants (Chromium included).

    Shared pages are counted once per process, so this over-states the real footprint (see PSS).
    Returns 0 where /proc is not available.
    """
    if not Path("/proc").exists():
        return 0
    return sum(_rss(p) for p in _tree(pid or os.getpid()))


def process_tree(pid: int) -> list[int]:
    """`pid` and the pids of all its descendants (empty where /proc is not available)."""
    return _tree(pid) if Path("/proc").exists() else []


def process_memory(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of one process in bytes; (0, 0) when it is gone or /proc cannot be read."""
    return _rss(pid), _pss(pid)
