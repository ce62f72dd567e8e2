"""The benchmarks' databases and hubs, on `imhub.processes` (the launcher the demo and the e2e tests use).

`bench_env` is the environment of a benchmark's processes, with its database migrated: a fresh SQLite
file in the work directory unless a database URL is given, no Redis, this checkout's settings.
`shell_json` runs code in `manage.py shell` against that database and returns its last output line
as JSON (seeding users, tokens, accounts).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from imhub.processes import child_env, manage

SECRET_KEY = "bench-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"


def bench_env(
    *, workdir: Path, database_url: str | None = None, log_level: str = "WARNING"
) -> dict[str, str]:
    """The environment of a benchmark's hub and shell processes, with its database migrated."""
    env = child_env(
        drop=("DATABASE_URL", "REDIS_URL"),
        DATABASE_URL=database_url or f"sqlite:///{workdir / 'bench.sqlite3'}",
        IMHUB_VAR_DIR=str(workdir / "var"),
        SECRET_KEY=SECRET_KEY,
        LOG_LEVEL=log_level,
    )
    manage("migrate", "--noinput", "-v", "0", env=env)
    return env


def shell_json(*, env: dict[str, str], code: str, timeout: float = 3600.0) -> Any:
    """Run ``code`` in ``manage.py shell``; its last output line, decoded as JSON."""
    out = manage("shell", "-c", code, env=env, timeout=timeout)
    return json.loads(out.strip().splitlines()[-1])
