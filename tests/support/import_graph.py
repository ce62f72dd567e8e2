"""The project's import graph by layer, read from the source with `ast`: what the import rules test
checks, and a report anyone can print.

    .venv/bin/python -m tests.support.import_graph [ROOT]

prints, for the tree at ROOT (default: this checkout), the modules of each layer and the import edges
between layers (distinct importing module -> imported module pairs, migrations and tests left out).
A layer is the longest of `LAYERS` that prefixes a module's dotted name; benchmark code counts as
`bench` wherever it lives (an older tree kept it in `datasync/bench/` and `bench_*` management commands).
"""

from __future__ import annotations

import ast
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("imhub", "accounts", "datasync", "crawler", "bench")
LAYERS = (
    "bench",
    "imhub",
    "accounts",
    "crawler",
    "datasync.protocol",
    "datasync.desk",
    "datasync.im",
    "datasync",
)


def module_name(path: Path, root: Path = ROOT) -> str:
    """The dotted module name of a source file below ``root``."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files(root: Path = ROOT) -> list[Path]:
    """Every project source file (not migrations, not tests)."""
    return [
        path
        for package in PACKAGES
        if (root / package).is_dir()
        for path in sorted((root / package).rglob("*.py"))
        if "migrations" not in path.parts
    ]


def known_modules(root: Path = ROOT) -> set[str]:
    """The dotted names of every project module below ``root``."""
    return {module_name(path, root) for path in source_files(root)}


def imports(path: Path, root: Path = ROOT) -> list[str]:
    """The dotted names a file imports, module level or inside functions: ``import a.b`` gives
    ``a.b``, ``from a import b`` gives ``a.b`` (a module or a name in ``a``: `resolve` tells),
    relative imports resolved."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module_name(path, root).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*package[: len(package) - node.level + 1], *([base] if base else [])])
            names.extend(f"{base}.{alias.name}" for alias in node.names)
    return names


def resolve(name: str, known: set[str]) -> str:
    """The module a dotted import name is: itself when a module of ``known``, else its nearest
    parent that is (``datasync.protocol.DataSyncFrame`` -> ``datasync.protocol``)."""
    while name not in known and "." in name:
        name = name.rsplit(".", 1)[0]
    return name


def layer(name: str) -> str | None:
    """The layer of a dotted module name, or None when it is not a project module."""
    if name.split(".")[0] not in PACKAGES:
        return None
    if ".management.commands.bench_" in name or name.startswith("datasync.bench"):
        return "bench"  # benchmark tooling inside the product (the tree before it moved to bench/)
    for candidate in LAYERS:
        if name == candidate or name.startswith(candidate + "."):
            return candidate
    return None


def graph(root: Path = ROOT) -> tuple[Counter[str], Counter[tuple[str, str]]]:
    """(modules per layer, import edges per (from layer, to layer)) of the tree at ``root``."""
    modules: Counter[str] = Counter()
    edges: set[tuple[str, str]] = set()
    known = known_modules(root)
    for path in source_files(root):
        name = module_name(path, root)
        source = layer(name)
        if source is None:
            continue
        modules[source] += 1
        for imported in imports(path, root):
            target = resolve(imported, known)
            if layer(target) is not None and target != name:
                edges.add((name, target))
    by_layer: Counter[tuple[str, str]] = Counter()
    for importer, imported in edges:
        by_layer[(layer(importer) or "", layer(imported) or "")] += 1
    return modules, by_layer


def graph_report(root: Path = ROOT) -> str:
    """The graph as text: modules per layer, then the edges between different layers."""
    modules, edges = graph(root)
    lines = [f"modules: {sum(modules.values())}"]
    lines += [f"  {name}: {count}" for name, count in sorted(modules.items())]
    between = {pair: count for pair, count in edges.items() if pair[0] != pair[1]}
    lines.append(
        f"import edges: {sum(edges.values())} in all, {sum(between.values())} between layers "
        "(distinct module -> module pairs)"
    )
    lines += [f"  {a} -> {b}: {count}" for (a, b), count in sorted(between.items())]
    return "\n".join(lines)


if __name__ == "__main__":
    print(graph_report(Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else ROOT))
