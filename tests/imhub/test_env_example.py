"""`.env.example` lists exactly the variables `imhub/settings.py` reads (its one environment reader), and
a copy of it as `.env` gives a working set-up (every active line a safe value)."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

from tests.support.processes import ROOT, base_env

EXAMPLE = ROOT / ".env.example"
VARIABLE = re.compile(r"^#? ?([A-Z][A-Z0-9_]*)=(.*)$")


def _example() -> dict[str, tuple[bool, str]]:
    """name -> (active, value) of every variable line, active or commented out."""
    found = {}
    for line in EXAMPLE.read_text().splitlines():
        match = VARIABLE.match(line)
        if match:
            found[match.group(1)] = (not line.startswith("#"), match.group(2))
    return found


def _settings_reads() -> set[str]:
    """The names imhub/settings.py reads through its django-environ reader (`env.<type>("NAME", ...)`)."""
    tree = ast.parse((ROOT / "imhub" / "settings.py").read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "env"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names.add(node.args[0].value)
    return names


def test_the_example_lists_exactly_what_settings_reads() -> None:
    assert sorted(_example()) == sorted(_settings_reads())


def test_the_settings_reader_sees_every_read() -> None:
    # guard against a checker that passes because it reads nothing
    assert {"SECRET_KEY", "DATABASE_URL", "IMHUB_SNAPSHOT_PATH", "IMHUB_DOUYIN_BASE_URL"} <= _settings_reads()


def test_no_product_module_reads_the_environment_but_settings() -> None:
    # os.environ / os.getenv reads of a setting's name anywhere else in the product
    names = _settings_reads()
    offenders = []
    for package in ("imhub", "accounts", "datasync", "crawler"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if path == ROOT / "imhub" / "settings.py" or "migrations" in path.parts:
                continue
            for name in names:
                source = path.read_text()
                if re.search(rf"(environ\.get|getenv|environ\[)\(?[\"']{name}[\"']", source):
                    offenders.append(f"{path.relative_to(ROOT)}: {name}")
    assert offenders == []


def test_a_copy_of_the_example_is_a_working_set_up(tmp_path: Path) -> None:
    # given the example's active lines as the environment (what a copy to .env gives)
    env = base_env()
    for name in _example():
        env.pop(name, None)
    env.update({name: value for name, (active, value) in _example().items() if active})
    env["IMHUB_VAR_DIR"] = str(tmp_path / "var")  # not the checkout's var/
    code = (
        "import json; from django.conf import settings; "
        "print(json.dumps({'engine': settings.DATABASES['default']['ENGINE'], "
        "'snapshot': settings.IMHUB_SNAPSHOT_PATH, 'server': settings.IMHUB_SERVER, "
        "'storage_key': bool(settings.STORAGE_STATE_KEYS), 'lane': settings.IMHUB_READ_LANE}))"
    )
    # when the settings are read
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    # then every default is in force: SQLite, the snapshot in the var dir, a storage key, the read lane
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got == {
        "engine": "django.db.backends.sqlite3",
        "snapshot": str(tmp_path / "var" / "datastore.snapshot"),
        "server": "granian",
        "storage_key": True,
        "lane": True,
    }
