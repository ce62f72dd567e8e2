"""Keys the hub and workers need, and the checks that keep a default or short key out of production.

In development (`IMHUB_ENV=development`, the default of the two commands in the README) a key that is
not set is generated once into `<var dir>/keys/<name>` (0600 in a 0700 folder), so even a demo never
runs on a key anyone can read in the source. In production (`IMHUB_ENV=production`) the hub refuses to
start unless `SECRET_KEY` and `STORAGE_STATE_KEY` are set, long enough, not a known default and not the
same (`production_key_problems`).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

MIN_SECRET_KEY = 50
MIN_STORAGE_KEY = 32
KNOWN_DEFAULTS = {"imhub-insecure-dev-key-change-me-in-production-0123456789", "change-me", ""}


def generated_key(var_dir: Path, name: str) -> str:
    """The key stored under `var_dir/keys/name`, created (random, 0600) the first time; several
    processes starting together agree on one (exclusive create, then read)."""
    folder = var_dir / "keys"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    path = folder / name
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    for _ in range(50):  # another process may be writing it this instant
        value = path.read_text().strip()
        if value:
            return value
        import time

        time.sleep(0.02)
    raise RuntimeError(f"the key file {path} stays empty")


def production_key_problems(*, secret_key: str, storage_keys: list[str]) -> list[str]:
    """What is wrong with the keys for production, each naming its variable ([] when nothing)."""
    problems = []
    if secret_key in KNOWN_DEFAULTS:
        problems.append("SECRET_KEY is not set (or is a published default): set a long random value")
    elif len(secret_key) < MIN_SECRET_KEY:
        problems.append(f"SECRET_KEY is {len(secret_key)} characters; use at least {MIN_SECRET_KEY}")
    if not storage_keys:
        problems.append(
            "STORAGE_STATE_KEY is not set: set its own long random value (it encrypts the accounts' cookies)"
        )
    for index, key in enumerate(storage_keys):
        if len(key) < MIN_STORAGE_KEY:
            problems.append(
                f"STORAGE_STATE_KEY entry {index + 1} is {len(key)} characters; use at least {MIN_STORAGE_KEY}"
            )
        if key == secret_key:
            problems.append(f"STORAGE_STATE_KEY entry {index + 1} equals SECRET_KEY; give it its own value")
    return problems
