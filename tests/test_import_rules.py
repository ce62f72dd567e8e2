"""The project's layers, enforced on the source tree (tests/support/import_graph.py reads the imports).

- `crawler` imports only `datasync.protocol` from the hub side (a worker talks to the hub over the wire).
- `accounts` imports nothing project-local.
- the sync core (`datasync`, `datasync.protocol`) imports `accounts`, never the IM app.
- the IM app (`datasync.im`) imports the core and `accounts`.
- `imhub` (the project: settings, ASGI, URLs, wiring) composes them all.
- `bench` (benchmarks, tooling outside the product) may import anything; nothing imports it.
"""

from __future__ import annotations

from pathlib import Path

from tests.support.import_graph import (
    LAYERS,
    ROOT,
    imports,
    known_modules,
    layer,
    module_name,
    resolve,
    source_files,
)

# layer -> the layers it may import besides its own
ALLOWED: dict[str, set[str]] = {
    "accounts": set(),
    "datasync.protocol": set(),
    "datasync": {"datasync.protocol", "accounts"},
    "datasync.im": {"datasync", "datasync.protocol", "accounts"},
    # the support desk is built on the IM app; the IM app never imports it
    "datasync.desk": {"datasync.im", "datasync", "datasync.protocol", "accounts"},
    "imhub": {"datasync", "datasync.protocol", "datasync.im", "datasync.desk", "accounts", "crawler"},
    "crawler": {"datasync.protocol"},
    # tooling outside the product (benchmarks): anything, so it needs no copies
    "bench": set(LAYERS),
}


def _violations(root: Path = ROOT) -> list[str]:
    known = known_modules(root)
    found = []
    for path in source_files(root):
        source = layer(module_name(path, root))
        if source is None:
            continue
        for name in imports(path, root):
            target = layer(resolve(name, known))
            if target is not None and target != source and target not in ALLOWED[source]:
                found.append(f"{path.relative_to(root)} ({source}) imports {name} ({target})")
    return found


def test_every_layer_imports_only_what_it_may() -> None:
    assert _violations() == []


def test_every_layer_has_its_rule() -> None:
    assert set(ALLOWED) == set(LAYERS)


def test_no_benchmark_code_inside_the_product() -> None:
    # no bench_* management commands or bench modules below the product's packages: they live in bench/
    product = [path for path in source_files() if path.relative_to(ROOT).parts[0] != "bench"]
    assert [str(p.relative_to(ROOT)) for p in product if "bench" in p.name or "bench" in p.parts] == []


def test_the_rule_checker_sees_imports(tmp_path: Path) -> None:
    # guard against a checker that passes because it reads nothing: a core module importing the IM app
    core = tmp_path / "datasync"
    (core / "im").mkdir(parents=True)
    (core / "__init__.py").write_text("")
    (core / "im" / "__init__.py").write_text("")
    (core / "im" / "events.py").write_text("")
    (core / "store.py").write_text(
        "import datasync.protocol\nfrom datasync.im import events\nfrom . import im\nimport json\n"
    )
    assert sorted(imports(core / "store.py", tmp_path)) == [
        "datasync.im",
        "datasync.im.events",
        "datasync.protocol",
        "json",
    ]
    assert sorted(_violations(tmp_path)) == [
        "datasync/store.py (datasync) imports datasync.im (datasync.im)",
        "datasync/store.py (datasync) imports datasync.im.events (datasync.im)",
    ]
