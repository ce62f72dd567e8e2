"""The design's import rules, enforced on the source tree.

- `accounts` imports nothing project-local.
- `crawler` imports only `datasync.protocol` from the hub side (a worker talks to the hub over the wire).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROJECT_PACKAGES = {"imhub", "accounts", "datasync", "crawler"}


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def _violations(package: str, allowed: tuple[str, ...]) -> list[str]:
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for name in _imports(path):
            top = name.split(".")[0]
            if top in PROJECT_PACKAGES and top != package and not name.startswith(allowed):
                found.append(f"{path.relative_to(ROOT)} imports {name}")
    return found


def test_accounts_imports_nothing_project_local() -> None:
    assert _violations("accounts", allowed=()) == []


def test_crawler_imports_only_datasync_protocol() -> None:
    assert _violations("crawler", allowed=("datasync.protocol",)) == []


def test_datasync_imports_only_accounts() -> None:
    assert _violations("datasync", allowed=("accounts",)) == []


def test_the_rule_checker_sees_imports(tmp_path: Path) -> None:
    # guard against a checker that passes because it reads nothing
    sample = tmp_path / "sample.py"
    sample.write_text("import datasync.store\nfrom crawler.worker import Worker\nfrom . import local\n")
    assert _imports(sample) == ["datasync.store", "crawler.worker"]
